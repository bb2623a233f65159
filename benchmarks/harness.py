"""Set-up the benchmark scripts share: fresh hub databases, seed data, the hub server, timing.

The scripts run as ``python benchmarks/NAME.py`` and so find this module on ``sys.path[0]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Connection, Table, insert, text

from cityhub.sensorthings import derived, writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.bulk import BulkLoader
from cityhub.store.database import Store

POSTGRES_URL = os.environ.get(
    "CITYHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TOKEN = "bench-token"
START = datetime(2026, 1, 1, tzinfo=UTC)
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def backends(choice: str) -> list[str]:
    """The backends a ``--backend`` choice stands for, so ``both`` means the same everywhere."""
    return ["sqlite", "postgresql"] if choice == "both" else [choice]


# --- databases -------------------------------------------------------------------------------


def create_database(backend: str, name: str, dir_prefix: str) -> tuple[dict[str, Any], str | None]:
    """Settings overrides for a fresh hub: a temp data dir and, on PostgreSQL, a new database
    ``cityhub_<name>_<hex>`` (returned for ``drop_database``), so runs never share state."""
    overrides: dict[str, Any] = {"data_dir": Path(tempfile.mkdtemp(prefix=dir_prefix))}
    database = None
    if backend == "postgresql":
        database = f"cityhub_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        overrides["database_url"] = POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}"
    return overrides, database


def drop_database(database: str | None) -> None:
    """Drop a database of ``create_database`` (none on SQLite), even with sessions still open."""
    if database:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def open_store(overrides: dict[str, Any]) -> Store:
    """A migrated Store on the overrides alone, so the caller's environment cannot leak in."""
    store = Store(load_settings(overrides, environ={}))
    store.migrate()
    return store


@contextmanager
def hub_database(
    backend: str, name: str = "bench", dir_prefix: str = "cityhub-bench-"
) -> Iterator[tuple[dict[str, Any], Store]]:
    """A fresh, migrated hub database of one backend, closed and dropped afterwards."""
    overrides, database = create_database(backend, name, dir_prefix)
    try:
        store = open_store(overrides)
        try:
            yield overrides, store
        finally:
            store.close()
    finally:
        drop_database(database)


# --- the database's own bulk load ------------------------------------------------------------


def floor_load(connection: Connection, table: Table, columns: list[str], rows: list[tuple]) -> None:
    """Rows (values ready for the database) loaded the database's own fastest way: binary
    COPY on PostgreSQL, one ``executemany`` of plain SQL on SQLite. The floors of the bulk
    figures; the hub's own loader is measured against them, not with them."""
    if connection.dialect.name == "postgresql":
        BulkLoader(connection).load(table, columns, rows)
        return
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" * len(columns))
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def floor_insert(store: Store, table: Table, rows: list[dict[str, Any]]) -> None:
    """``floor_load`` of rows given as mappings of column to Python value, converted to the
    backend's form as part of the load (as the hub's loader does), in one transaction."""

    def work(connection: Connection) -> None:
        loader = BulkLoader(connection)
        names = list(rows[0])
        columns = [loader.converted(table, name, [row[name] for row in rows]) for name in names]
        floor_load(connection, table, names, list(zip(*columns, strict=True)))

    store.write_blocking(work)


# --- seed data -------------------------------------------------------------------------------


def plain_datastream(index: int) -> dict[str, Any]:
    """The Datastream fields most scripts use: only the name differs between them."""
    return {"name": f"DS {index}", "description": "d", "unit_of_measurement": {"name": "C"}}


def seed_datastreams(
    connection: Connection,
    count: int,
    thing_name: str = "Bench",
    fields: Callable[[int], dict[str, Any]] = plain_datastream,
) -> tuple[list[int], int]:
    """One Thing with a Location, Sensor, ObservedProperty and derived FeatureOfInterest, and
    ``count`` Datastreams with ``fields(i)``; the Datastream ids and the feature's id."""
    location = {
        "name": "L",
        "description": "d",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [7.08, 51.17]},
    }
    thing = {"name": thing_name, "description": "d", "Locations": [location]}
    thing_id = writes.create(connection, BY_NAME["Thing"], thing)
    sensor = writes.create(
        connection,
        BY_NAME["Sensor"],
        {"name": "S", "description": "d", "encodingType": "text/html", "metadata": "x"},
    )
    prop = writes.create(
        connection,
        BY_NAME["ObservedProperty"],
        {"name": "T", "definition": "x", "description": "d"},
    )
    feature = derived.feature_from_location(connection, thing_id)
    connection.execute(
        insert(schema.datastreams),
        [
            {
                **fields(i),
                "observation_type": MEASUREMENT,
                "thing_id": thing_id,
                "sensor_id": sensor,
                "observed_property_id": prop,
            }
            for i in range(count)
        ],
    )
    ids = list(connection.scalars(text("SELECT id FROM datastreams ORDER BY id")))
    return ids, feature


# --- the hub server --------------------------------------------------------------------------


def hub_env(admin_token: bool = True) -> dict[str, str]:
    """The server's environment: quiet logs and, where the script writes, the bench token."""
    env = {**os.environ, "CITYHUB_LOG_LEVEL": "warning"}
    if admin_token:
        env["CITYHUB_ADMIN_TOKEN"] = TOKEN
    return env


def serve_command(overrides: dict[str, Any]) -> list[str]:
    """``cityhub serve`` on a free port over the same data dir and database as the overrides."""
    command = [sys.executable, "-m", "cityhub", "serve", "--port", "0"]
    command += ["--data-dir", str(overrides["data_dir"])]
    if "database_url" in overrides:
        command += ["--database", overrides["database_url"]]
    return command


def start_server(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Start a server that prints its URL and wait until it answers; the process and the URL."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if match:
            base = match[1]
            break
    else:
        raise SystemExit("server did not start")
    # Keep reading what it prints: a full pipe would block the server at its next log line.
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
    for _ in range(100):
        try:
            httpx.get(base + "/", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {base} did not answer")


def _drain(output: Any) -> None:
    try:
        for _ in output:
            pass
    except (OSError, ValueError):  # closed by ``stop``
        return


def stop(process: subprocess.Popen) -> None:
    """Stop a server of ``start_server`` and close its pipe, so no process or fd outlives it."""
    process.terminate()
    process.wait(timeout=15)
    if process.stdout:
        process.stdout.close()


@contextmanager
def running_hub(
    overrides: dict[str, Any], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen, str]]:
    """``cityhub serve`` on the overrides' database while the block runs; process and URL."""
    process, base = start_server(serve_command(overrides), env)
    try:
        yield process, base
    finally:
        stop(process)


# --- load and timing -------------------------------------------------------------------------


def wrk(url: str, args: argparse.Namespace, script: str | None = None) -> float:
    """Requests per second from wrk; non-2xx answers abort the measurement."""
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk as its load generator: apt-get install wrk")
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
    if script:
        path = Path(tempfile.mkdtemp()) / "script.lua"
        path.write_text(script)
        command += ["-s", str(path)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"wrk saw errors:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])


def post_script(body_lua: str) -> str:
    """A wrk Lua script POSTing ``body_lua``'s JSON with the bench token, seeded for repeats."""
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {TOKEN}"
math.randomseed(42)
request = function()
  {body_lua}
end
"""


def median_ms(call: Callable[[], Any], repeat: int) -> float:
    """Median ms of ``repeat`` calls (at least one): a median shrugs off a busy moment."""
    times = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def alternating(first: Callable[[], Any], second: Callable[[], Any], repeat: int) -> list[float]:
    """Median ms of each, run turn about so that a busy moment of the machine hits both."""
    first(), second()  # warm the caches
    times: list[list[float]] = [[], []]
    for _ in range(repeat):
        for index, call in enumerate((first, second)):
            started = time.perf_counter()
            call()
            times[index].append((time.perf_counter() - started) * 1000)
    return [statistics.median(series) for series in times]


def report(name: str, figure: str, floor: str, ratio: float, lower_is_better: bool = False) -> None:
    """One figure beside its floor and their ratio, aligned the same in every script."""
    unit = "x the floor's time" if lower_is_better else "of the floor"
    shown = f"{ratio:.2f}{unit}" if lower_is_better else f"{ratio:.0%} {unit}"
    print(f"  {name:<34} {figure:>14}   floor {floor:<28} ratio {shown}")
