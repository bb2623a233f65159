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
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from harness import (
    MEASUREMENT,
    START,
    alternating,
    backends,
    hub_database,
    hub_env,
    report,
    running_hub,
)
from sqlalchemy import Connection, text

from cityhub.store import schema
from cityhub.store.database import Store

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
    for backend in backends(args.backend):
        print(f"\n== {backend} ==")
        with hub_database(backend, dir_prefix="cityhub-agg-") as (overrides, store):
            measure_queries(overrides, store, args)
        measure_ingest(backend, args)


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


def floor_statements(store: Store, end: datetime) -> dict[str, tuple[Any, dict]]:
    """The hourly and the daily aggregation as one plain GROUP BY each, with parameters."""
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
    return {
        "PT1H": (
            text(f"SELECT {hour} AS b, {figures} FROM observations {where} GROUP BY b"),
            bounds,
        ),
        "P1D": (text(f"SELECT {day} AS b, {figures} FROM observations {where} GROUP BY b"), bounds),
    }


def measure_queries(overrides: dict, store: Store, args: argparse.Namespace) -> None:
    load(store, args)
    end = START + timedelta(minutes=args.minutes)
    floors = floor_statements(store, end)
    with (
        running_hub(overrides, hub_env(admin_token=False)) as (_, base),
        httpx.Client(base_url=f"{base}/v1.1", timeout=60) as client,
        store.read_engine.connect() as connection,
    ):
        for interval, zone, name in (
            ("PT1H", "UTC", f"hourly over {args.minutes // 60} h ({args.minutes:,} rows)"),
            ("P1D", "Europe/Berlin", "daily in Europe/Berlin"),
        ):
            statement, bounds = floors[interval]
            request = http_request(client, end, interval, zone, args)
            floor_ms, http_ms = alternating(
                lambda s=statement, b=bounds: connection.execute(s, b).all(),
                request,
                args.repeat,
            )
            report(
                name,
                f"{http_ms:.2f} ms",
                f"SQL {floor_ms:.2f} ms",
                http_ms / floor_ms,
                lower_is_better=True,
            )
        root_ms = alternating(lambda: client.get("/"), lambda: None, args.repeat)[0]
        print(f"    (a bare round trip to the service root with this client: {root_ms:.2f} ms)")


def http_request(
    client: httpx.Client, end: datetime, interval: str, zone: str, args: argparse.Namespace
) -> Callable[[], None]:
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

    return request


def measure_ingest(backend: str, args: argparse.Namespace) -> None:
    """Bulk insert rate with the covering index, and with the plain one it replaced."""
    rates = {}
    for index in (COVERING, PLAIN):
        with hub_database(backend, dir_prefix="cityhub-agg-") as (_, store):
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
