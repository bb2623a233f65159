"""SensorThings hot paths on both backends, each figure beside its floor from the same run.

    python benchmarks/sensorthings_bench.py [--backend sqlite|postgresql|both]
        [--datastreams 1000] [--per-datastream 1000] [--seconds 10]

Needs ``wrk`` (Debian: apt-get install wrk) as the load generator and, for PostgreSQL, a
server at CITYHUB_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
Figures:
- single-Observation POSTs per second, beside a bare Starlette POST endpoint and the
  database's own one-row transactions per second;
- one datastream over a time range (``$filter=Datastream/@iot.id eq N and phenomenonTime ge
  …&$top=100``): median latency beside the same query straight to the database;
- the latest observation of every datastream (``Datastreams?$expand=Observations($top=1;
  $orderby=phenomenonTime desc)`` paged through): total time beside the raw SQL.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import insert, text

from cityhub.sensorthings import derived, writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store
from cityhub.store.writer import GroupCommitWriter

HERE = Path(__file__).parent
POSTGRES_URL = os.environ.get(
    "CITYHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TOKEN = "bench-token"
START = datetime(2026, 1, 1, tzinfo=UTC)
LATEST = (
    "/Datastreams?$top=1000&$select=id&$expand=Observations($top=1;$orderby=phenomenonTime desc)"
)
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--datastreams", type=int, default=1000)
    parser.add_argument("--per-datastream", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    floor_post, floor_get, floor_latency = http_floor(args)
    print(
        f"floor: bare Starlette POST {floor_post:,.0f} req/s, GET {floor_get:,.0f} req/s, "
        f"one GET {floor_latency:.2f} ms (same client as below)"
    )
    for backend in backends:
        run_backend(backend, args, floor_post, floor_latency)


# --- servers and load ------------------------------------------------------------------------


def start_server(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
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
    for _ in range(100):
        try:
            httpx.get(base + "/", timeout=1)
            return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"server at {base} did not answer")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=15)
    if process.stdout:
        process.stdout.close()


def wrk(url: str, args: argparse.Namespace, script: str | None = None) -> float:
    """Requests per second from wrk; non-2xx answers abort the measurement."""
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
    return f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {TOKEN}"
math.randomseed(42)
request = function()
  {body_lua}
end
"""


def http_floor(args: argparse.Namespace) -> tuple[float, float, float]:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "floor_app:app",
        "--port",
        "0",
        "--log-level",
        "info",
        "--no-access-log",
    ]
    process, base = start_server(command, env)
    try:
        body = '{"result": 21.5, "Datastream": {"@iot.id": 1}}'
        script = post_script(f"return wrk.format(nil, nil, nil, '{body}')")
        with httpx.Client(base_url=base) as client:
            latency = median_ms(lambda: client.get("/get"), 300)
        return wrk(base + "/post", args, script), wrk(base + "/get", args), latency
    finally:
        stop(process)


# --- data ------------------------------------------------------------------------------------


def prepare(backend: str, args: argparse.Namespace) -> tuple[dict, Store, str | None]:
    overrides: dict = {"data_dir": Path(tempfile.mkdtemp(prefix="cityhub-bench-"))}
    database = None
    if backend == "postgresql":
        database = f"cityhub_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        overrides["database_url"] = POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}"
    store = Store(load_settings(overrides, environ={}))
    store.migrate()
    started = time.perf_counter()
    store.write_blocking(lambda c: seed(c, store, args))
    total = args.datastreams * args.per_datastream
    print(
        f"  loaded {total:,} observations in {args.datastreams:,} datastreams "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return overrides, store, database


def seed(connection, store: Store, args: argparse.Namespace) -> None:
    thing = {
        "name": "Bench",
        "description": "d",
        "Locations": [
            {
                "name": "L",
                "description": "d",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [7.08, 51.17]},
            }
        ],
    }
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
    datastreams = schema.datastreams
    connection.execute(
        insert(datastreams),
        [
            {
                "name": f"DS {i}",
                "description": "d",
                "unit_of_measurement": {"name": "C"},
                "observation_type": MEASUREMENT,
                "thing_id": thing_id,
                "sensor_id": sensor,
                "observed_property_id": prop,
            }
            for i in range(args.datastreams)
        ],
    )
    ids = list(connection.scalars(text("SELECT id FROM datastreams ORDER BY id")))
    for chunk_start in range(0, len(ids), 100):
        rows = [
            {
                "datastream_id": ds,
                "phenomenon_time_start": START + timedelta(minutes=m),
                "phenomenon_time_end": None,
                "result_time": None,
                "result_type": 2,
                "result_number": 20 + random.random(),
                "result_string": None,
                "result_json": None,
                "feature_of_interest_id": feature,
            }
            for ds in ids[chunk_start : chunk_start + 100]
            for m in range(args.per_datastream)
        ]
        store.bulk_insert(connection, schema.observations, rows)
    derived.recompute_datastream_extents(connection, set(ids))


# --- measurements ----------------------------------------------------------------------------


def run_backend(
    backend: str, args: argparse.Namespace, floor_post: float, floor_latency: float
) -> None:
    print(f"\n== {backend} ==")
    overrides, store, database = prepare(backend, args)
    try:
        commit_floor = one_row_commits(store)
        sql_range, sql_latest = raw_queries(store, args)
        env = {**os.environ, "CITYHUB_ADMIN_TOKEN": TOKEN, "CITYHUB_LOG_LEVEL": "warning"}
        command = [
            sys.executable,
            "-m",
            "cityhub",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(overrides["data_dir"]),
        ]
        if "database_url" in overrides:
            command += ["--database", overrides["database_url"]]
        process, base = start_server(command, env)
        try:
            floors = (floor_post, floor_latency, commit_floor, sql_range, sql_latest)
            measure_http(base, args, *floors)
        finally:
            stop(process)
    finally:
        store.close()
        if database:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def one_row_commits(store: Store, count: int = 2000) -> float:
    """The database's own floor: one INSERT per transaction, committed one by one."""
    writer = GroupCommitWriter(store.write_engine, max_batch=1)
    row = {"name": "x", "description": "y"}
    started = time.perf_counter()
    for _ in range(count):
        writer.submit(lambda c: c.execute(insert(schema.things).values(row))).result()
    rate = count / (time.perf_counter() - started)
    writer.close()
    return rate


def raw_queries(store: Store, args: argparse.Namespace) -> tuple[float, float]:
    """Median ms of the range query and of 'latest of every datastream', straight in SQL."""
    since = START + timedelta(minutes=args.per_datastream // 2)
    range_sql = text(
        "SELECT * FROM observations WHERE datastream_id = :ds AND phenomenon_time_start >= :t "
        "ORDER BY phenomenon_time_start, id LIMIT 100"
    ).bindparams(t=since if store.backend == "postgresql" else since.replace(tzinfo=None))
    if store.backend == "postgresql":
        latest_sql = text(
            "SELECT d.id, o.* FROM datastreams d CROSS JOIN LATERAL (SELECT * FROM observations "
            "o WHERE o.datastream_id = d.id ORDER BY phenomenon_time_start DESC LIMIT 1) o"
        )
    else:
        latest_sql = text(
            "SELECT o.* FROM datastreams d JOIN observations o ON o.id = (SELECT id FROM "
            "observations WHERE datastream_id = d.id ORDER BY phenomenon_time_start DESC "
            "LIMIT 1)"
        )
    with store.read_engine.connect() as connection:
        range_ms = median_ms(
            lambda: connection.execute(
                range_sql, {"ds": random.randint(1, args.datastreams)}
            ).all(),
            200,
        )
        latest_ms = median_ms(lambda: connection.execute(latest_sql).all(), 20)
    return range_ms, latest_ms


def median_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure_http(base, args, floor_post, floor_latency, commit_floor, sql_range, sql_latest):
    v = base + "/v1.1"
    body = (
        '\'{"result": '
        + "' .. math.random() * 30 .. '"
        + ', "Datastream": {"@iot.id": \' .. math.random(1, '
        + str(args.datastreams)
        + ") .. '}}'"
    )
    posts = wrk(v + "/Observations", args, post_script(f"return wrk.format(nil, nil, nil, {body})"))
    report(
        "single Observation POST",
        f"{posts:,.0f} req/s",
        f"Starlette POST {floor_post:,.0f} req/s",
        posts / floor_post,
    )
    print(
        f"    (database one-row transactions: {commit_floor:,.0f}/s; group commit gives "
        f"{posts / commit_floor:.2f}x that)"
    )
    since = (START + timedelta(minutes=args.per_datastream // 2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with httpx.Client(base_url=v, timeout=30) as client:

        def range_query():
            ds = random.randint(1, args.datastreams)
            response = client.get(
                "/Observations",
                params={
                    "$filter": f"Datastream/@iot.id eq {ds} and phenomenonTime ge {since}",
                    "$top": "100",
                },
            )
            assert response.status_code == 200, response.text
            assert len(response.json()["value"]) == min(100, args.per_datastream // 2)

        range_ms = median_ms(range_query, 200)
        report(
            "time-range query (100 rows)",
            f"{range_ms:.2f} ms",
            f"SQL {sql_range:.2f} ms",
            range_ms / sql_range,
            lower_is_better=True,
        )
        print(f"    (of which a bare HTTP round trip with this client: {floor_latency:.2f} ms)")

        def latest():
            url = LATEST
            seen = 0
            while url:
                page = client.get(url).json()
                seen += sum(1 for d in page["value"] if d["Observations"])
                url = page.get("@iot.nextLink")
            assert seen == args.datastreams, seen

        latest_ms = median_ms(latest, 10)
        report(
            f"latest of all {args.datastreams} datastreams",
            f"{latest_ms:.1f} ms",
            f"SQL {sql_latest:.1f} ms",
            latest_ms / sql_latest,
            lower_is_better=True,
        )


def report(name, figure, floor, ratio, lower_is_better=False) -> None:
    unit = "x the floor's time" if lower_is_better else "of the floor"
    shown = f"{ratio:.2f}{unit}" if lower_is_better else f"{ratio:.0%} {unit}"
    print(f"  {name:<34} {figure:>14}   floor {floor:<28} ratio {shown}")


if __name__ == "__main__":
    main()
