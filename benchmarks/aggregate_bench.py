"""Aggregation over time buckets on both backends, each figure beside its SQL floor.

    python benchmarks/aggregate_bench.py [--backend sqlite|postgresql|both]
        [--minutes 43200] [--background 9] [--repeat 30] [--ingest-rows 200000]

One Datastream holds a month of 1-minute data (43,200 Observations), interleaved in time with
``--background`` other Datastreams of the same shape. Figures, as medians of repeated requests:
- hourly count/min/max/avg/sum over the month through HTTP
  (``Datastreams(1)/Observations/$aggregate?interval=PT1H``) beside the same aggregation
  straight to the database (``GROUP BY`` the hour);
- daily buckets in Europe/Berlin (``interval=P1D&timeZone=Europe/Berlin``) beside a plain
  ``GROUP BY`` the local day (on SQLite, which has no time zones, a fixed offset);
- bulk ingest with the covering index (datastream, time, id, result) and with the index it
  replaced (datastream, time, id): what the faster reads cost the writes.

Needs, for PostgreSQL, a server at CITYHUB_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from sensorthings_bench import median_ms, report, start_server, stop
from sqlalchemy import Connection, text

from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

POSTGRES_URL = os.environ.get(
    "CITYHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 1, 1, tzinfo=UTC)
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
COVERING = "ix_observations_datastream_id_time_result"
PLAIN = "ix_observations_datastream_id_phenomenon_time_start_id"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--minutes", type=int, default=43_200)
    parser.add_argument("--background", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--ingest-rows", type=int, default=200_000)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        print(f"\n== {backend} ==")
        with hub_database(backend) as (overrides, store):
            measure_queries(overrides, store, args)
        measure_ingest(backend, args)


class hub_database:
    """A fresh, migrated database of one backend, dropped afterwards."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.database: str | None = None

    def __enter__(self) -> tuple[dict, Store]:
        self.overrides: dict = {"data_dir": Path(tempfile.mkdtemp(prefix="cityhub-agg-"))}
        if self.backend == "postgresql":
            self.database = f"cityhub_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            self.overrides["database_url"] = POSTGRES_URL.rsplit("/", 1)[0] + f"/{self.database}"
        self.store = Store(load_settings(self.overrides, environ={}))
        self.store.migrate()
        return self.overrides, self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()
        if self.database:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


# --- data ------------------------------------------------------------------------------------


def seed_parents(connection: Connection, datastreams: int) -> None:
    """A Thing, Sensor, ObservedProperty and feature, and ``datastreams`` Datastreams."""
    connection.execute(text("INSERT INTO things (name, description) VALUES ('Bench', 'd')"))
    connection.execute(
        text(
            "INSERT INTO sensors (name, description, encoding_type, metadata) "
            "VALUES ('S', 'd', 'text/html', '\"x\"')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO observed_properties (name, definition, description) VALUES ('T', 'x', 'd')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO features_of_interest (name, description, encoding_type, feature) "
            "VALUES ('F', 'd', 'application/geo+json', "
            '\'{"type": "Point", "coordinates": [7.08, 51.17]}\')'
        )
    )
    for index in range(datastreams):
        connection.execute(
            text(
                "INSERT INTO datastreams (name, description, unit_of_measurement, "
                "observation_type, thing_id, sensor_id, observed_property_id) "
                "VALUES (:name, 'd', '{}', :type, 1, 1, 1)"
            ),
            {"name": f"DS {index}", "type": MEASUREMENT},
        )


def observation_rows(datastreams: int, minutes: int, offset: int = 0) -> list[dict]:
    """One Observation a minute for every Datastream, interleaved in time as they arrive."""
    return [
        {
            "datastream_id": datastream,
            "phenomenon_time_start": START + timedelta(minutes=minute + offset),
            "phenomenon_time_end": None,
            "result_time": None,
            "result_type": schema.RESULT_FLOAT,
            "result_number": 20 + 10 * random.random(),
            "result_string": None,
            "result_json": None,
            "feature_of_interest_id": 1,
        }
        for minute in range(minutes)
        for datastream in range(1, datastreams + 1)
    ]


def load(store: Store, args: argparse.Namespace) -> None:
    datastreams = 1 + args.background
    store.write_blocking(lambda c: seed_parents(c, datastreams))
    started = time.perf_counter()
    chunk = 1440  # a day at a time
    for first in range(0, args.minutes, chunk):
        rows = observation_rows(datastreams, min(chunk, args.minutes - first), first)
        store.write_blocking(lambda c, rows=rows: store.bulk_insert(c, schema.observations, rows))
    total = datastreams * args.minutes
    print(f"  loaded {total:,} observations in {time.perf_counter() - started:.1f} s")
    analyse(store)


def analyse(store: Store) -> None:
    """Fresh statistics (and, on PostgreSQL, a visibility map for index-only scans)."""
    if store.backend == "postgresql":
        with store.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE observations"))
    else:
        store.write_blocking(lambda c: c.execute(text("ANALYZE")))


# --- measurements ----------------------------------------------------------------------------


def sql_floors(store: Store, end: datetime, repeat: int) -> tuple[float, float]:
    """Median ms of the hourly and the daily aggregation as one plain GROUP BY."""
    figures = "count(*), min(result_number), max(result_number), avg(result_number), "
    figures += "sum(result_number)"
    where = "WHERE datastream_id = 1 AND phenomenon_time_start >= :start "
    where += "AND phenomenon_time_start < :end"
    if store.backend == "postgresql":
        hour = "date_trunc('hour', phenomenon_time_start)"
        day = "date_trunc('day', phenomenon_time_start AT TIME ZONE 'Europe/Berlin')"
        bounds = {"start": START, "end": end}
    else:
        hour = "substr(phenomenon_time_start, 1, 13)"
        day = "substr(datetime(phenomenon_time_start, '+1 hours'), 1, 10)"
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        bounds = {"start": START.strftime(fmt), "end": end.strftime(fmt)}
    hourly = text(f"SELECT {hour} AS b, {figures} FROM observations {where} GROUP BY b")
    daily = text(f"SELECT {day} AS b, {figures} FROM observations {where} GROUP BY b")
    with store.read_engine.connect() as connection:
        floors = []
        for statement in (hourly, daily):
            connection.execute(statement, bounds).all()  # warm the cache
            floors.append(
                median_ms(lambda s=statement: connection.execute(s, bounds).all(), repeat)
            )
    return floors[0], floors[1]


def measure_queries(overrides: dict, store: Store, args: argparse.Namespace) -> None:
    load(store, args)
    end = START + timedelta(minutes=args.minutes)
    sql_hourly, sql_daily = sql_floors(store, end, args.repeat)
    env = {**os.environ, "CITYHUB_LOG_LEVEL": "warning"}
    command = [sys.executable, "-m", "cityhub", "serve", "--port", "0"]
    command += ["--data-dir", str(overrides["data_dir"])]
    if "database_url" in overrides:
        command += ["--database", overrides["database_url"]]
    process, base = start_server(command, env)
    try:
        with httpx.Client(base_url=f"{base}/v1.1", timeout=60) as client:
            hourly_ms = http_median(client, end, "PT1H", "UTC", args)
            daily_ms = http_median(client, end, "P1D", "Europe/Berlin", args)
    finally:
        stop(process)
    hours = args.minutes // 60
    report(
        f"hourly over {hours} h ({args.minutes:,} rows)",
        f"{hourly_ms:.2f} ms",
        f"SQL {sql_hourly:.2f} ms",
        hourly_ms / sql_hourly,
        lower_is_better=True,
    )
    report(
        "daily in Europe/Berlin",
        f"{daily_ms:.2f} ms",
        f"SQL {sql_daily:.2f} ms",
        daily_ms / sql_daily,
        lower_is_better=True,
    )


def http_median(
    client: httpx.Client, end: datetime, interval: str, zone: str, args: argparse.Namespace
) -> float:
    params = {
        "interval": interval,
        "timeZone": zone,
        "phenomenonTime": f"{START.isoformat()}/{end.isoformat()}",
        "$top": "1000",
    }

    def request() -> None:
        response = client.get("/Datastreams(1)/Observations/$aggregate", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "@iot.nextLink" not in body, "raise max_top or shorten the range"
        assert sum(bucket["count"] for bucket in body["value"]) == args.minutes

    request()  # warm the cache
    return median_ms(request, args.repeat)


def measure_ingest(backend: str, args: argparse.Namespace) -> None:
    """Bulk insert rate with the covering index, and with the plain one it replaced."""
    rates = {}
    for index in (COVERING, PLAIN):
        with hub_database(backend) as (_, store):
            store.write_blocking(lambda c: seed_parents(c, 100))
            if index == PLAIN:
                store.write_blocking(lambda c: swap_to_plain_index(c))
            rows = observation_rows(100, args.ingest_rows // 100)
            started = time.perf_counter()
            for first in range(0, len(rows), 20_000):
                part = rows[first : first + 20_000]
                store.write_blocking(
                    lambda c, part=part: store.bulk_insert(c, schema.observations, part)
                )
            rates[index] = len(rows) / (time.perf_counter() - started)
    report(
        "bulk ingest, covering index",
        f"{rates[COVERING]:,.0f} rows/s",
        f"plain index {rates[PLAIN]:,.0f} rows/s",
        rates[COVERING] / rates[PLAIN],
    )


def swap_to_plain_index(connection: Connection) -> None:
    connection.execute(text(f"DROP INDEX {COVERING}"))
    connection.execute(
        text(f"CREATE INDEX {PLAIN} ON observations (datastream_id, phenomenon_time_start, id)")
    )


if __name__ == "__main__":
    main()
