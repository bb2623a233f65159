"""Latest values and ``$count`` on large databases, each figure beside SQL from the same run.

    python benchmarks/reads_bench.py [--backend sqlite|postgresql|both]
        [--datastreams 10000] [--per-datastream 1000] [--repeat 5]

Builds a database of N Datastreams with M Observations each through the store's bulk path
(COPY on PostgreSQL), computes their statistics as the demo loader does, starts the hub
(``cityhub serve``) and measures, with httpx as the client and orjson decoding
the pages (its share is printed too):

- the latest Observation of every Datastream, paged through with ``$top=1000``: whole
  Datastreams with their latest Observation, and the values alone (``$select``), beside
  the best SQL for the same rows: ``LATERAL … LIMIT 1`` (PostgreSQL) / a correlated
  ``LIMIT 1`` (SQLite), and a join on the latest Observation each Datastream keeps;
- ``$count=true`` of all Observations, of one Datastream's, and of one Datastream's over a
  time range (``$top=0``: the count alone), beside SQL ``COUNT(*)`` of the same rows.

SQL floors are one statement each, fetched completely through the same driver; the HTTP
figures include everything a client waits for. PostgreSQL needs a server at
CITYHUB_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta
from typing import Any

import httpx
import orjson
import psycopg
from harness import (
    START,
    backends,
    hub_database,
    hub_env,
    median_ms,
    running_hub,
    seed_datastreams,
)
from sqlalchemy import Connection, text

from cityhub.sensorthings import derived
from cityhub.store import schema
from cityhub.store.database import Store

LATEST = "Observations($top=1;$orderby=phenomenonTime desc{})"
ROWS_PER_LOAD = 200_000

# The latest Observation of every Datastream, as the best SQL gets it. {d}: Datastream columns.
OBSERVATION_COLUMNS = (
    "o.id, o.phenomenon_time_start, o.phenomenon_time_end, o.result_time, o.result_type, "
    "o.result_number, o.result_string, o.result_json, o.result_quality, o.valid_time_start, "
    "o.valid_time_end, o.parameters, o.datastream_id, o.feature_of_interest_id"
)
VALUE_COLUMNS = (
    "o.id, o.phenomenon_time_start, o.phenomenon_time_end, o.result_type, o.result_number, "
    "o.result_string, o.result_json"
)
DATASTREAM_COLUMNS = (
    "d.id, d.name, d.description, d.unit_of_measurement, d.observation_type, d.observed_area, "
    "d.phenomenon_time_start, d.phenomenon_time_end, d.result_time_start, d.result_time_end, "
    "d.properties, d.thing_id, d.sensor_id, d.observed_property_id"
)
SEARCHED = {
    "postgresql": (
        "SELECT {d}, {o} FROM datastreams d LEFT JOIN LATERAL (SELECT * FROM observations o "
        "WHERE o.datastream_id = d.id ORDER BY o.phenomenon_time_start DESC, o.id DESC "
        "LIMIT 1) o ON true ORDER BY d.id"
    ),
    "sqlite": (
        "SELECT {d}, {o} FROM datastreams d LEFT JOIN observations o ON o.id = (SELECT i.id "
        "FROM observations i WHERE i.datastream_id = d.id ORDER BY i.phenomenon_time_start "
        "DESC, i.id DESC LIMIT 1) ORDER BY d.id"
    ),
}
# The latest Observation each Datastream keeps, looked up by its id. On PostgreSQL a plain
# join is planned as a hash join over every Observation (three times slower): the LATERAL
# ... LIMIT 1 keeps it to one index lookup per Datastream, the best plan for the floor.
KEPT = {
    "postgresql": (
        "SELECT {d}, {o} FROM datastreams d LEFT JOIN LATERAL (SELECT * FROM observations o "
        "WHERE o.id = d.latest_observation_id LIMIT 1) o ON true ORDER BY d.id"
    ),
    "sqlite": (
        "SELECT {d}, {o} FROM datastreams d LEFT JOIN observations o "
        "ON o.id = d.latest_observation_id ORDER BY d.id"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--datastreams", type=int, default=10_000)
    parser.add_argument("--per-datastream", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    for backend in backends(args.backend):
        run_backend(backend, args)


# --- data ------------------------------------------------------------------------------------


def load(overrides: dict[str, Any], store: Store, args: argparse.Namespace) -> None:
    """N Datastreams of M Observations each, their statistics computed and analysed."""
    started = time.perf_counter()
    ids = store.write_blocking(lambda c: seed_datastreams(c, args.datastreams, fields=temperature))[
        0
    ]
    random.seed(7)
    for first in range(0, len(ids), max(1, ROWS_PER_LOAD // args.per_datastream)):
        chunk = ids[first : first + max(1, ROWS_PER_LOAD // args.per_datastream)]
        store.write_blocking(lambda c, chunk=chunk: load_observations(c, store, chunk, args))
    store.write_blocking(lambda c: derived.recompute_datastream_extents(c, set(ids)))
    if "database_url" in overrides:
        # What autovacuum does on a live database: statistics and the visibility map.
        with psycopg.connect(overrides["database_url"], autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
    else:
        store.write_blocking(lambda c: c.execute(text("ANALYZE")))
    total = args.datastreams * args.per_datastream
    print(
        f"  loaded {total:,} observations in {args.datastreams:,} datastreams "
        f"in {time.perf_counter() - started:.1f} s"
    )


def temperature(index: int) -> dict[str, Any]:
    return {
        "name": f"Temperature {index}",
        "description": "air temperature at 2 m",
        "unit_of_measurement": {"name": "degree Celsius", "symbol": "degC"},
        "properties": {"district": f"D{index % 17}"},
    }


def load_observations(
    connection: Connection, store: Store, datastream_ids: list[int], args: argparse.Namespace
) -> None:
    feature = connection.scalar(text("SELECT min(id) FROM features_of_interest"))
    rows = [
        {
            "datastream_id": datastream_id,
            "phenomenon_time_start": START + timedelta(minutes=minute),
            "result_time": START + timedelta(minutes=minute),
            "result_type": 2,
            "result_number": round(random.uniform(-10, 30), 2),
            "feature_of_interest_id": feature,
        }
        for datastream_id in datastream_ids
        for minute in range(args.per_datastream)
    ]
    store.bulk_insert(connection, schema.observations, rows)


# --- measurements ----------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> None:
    print(f"\n== {backend} ==")
    with hub_database(backend) as (overrides, store):
        load(overrides, store, args)
        floors = sql_floors(store, args)
        with running_hub(overrides, hub_env(admin_token=False)) as (_, base):
            measure_http(base + "/v1.1", args, floors)


def count_queries(args: argparse.Namespace) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Name → (HTTP path and query, SQL, SQL parameters) of the counts measured."""
    datastream = args.datastreams // 2 + 1
    since = START + timedelta(minutes=args.per_datastream // 2)
    wire = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    own = f"datastream_id = {datastream}"
    return {
        "all Observations": ("/Observations?$count=true&$top=0", "", {}),
        "one Datastream's": (
            f"/Datastreams({datastream})/Observations?$count=true&$top=0",
            own,
            {},
        ),
        "one Datastream's, time range": (
            f"/Datastreams({datastream})/Observations?$count=true&$top=0"
            f"&$filter=phenomenonTime ge {wire}",
            own + " AND phenomenon_time_start >= :since",
            {"since": since},
        ),
        "time range by $filter": (
            "/Observations?$count=true&$top=0"
            f"&$filter=Datastream/@iot.id eq {datastream} and phenomenonTime ge {wire}",
            own + " AND phenomenon_time_start >= :since",
            {"since": since},
        ),
    }


def sql_floors(store: Store, args: argparse.Namespace) -> dict[str, float]:
    """Median ms of each SQL floor, fetching every row through the same driver as the hub."""
    floors: dict[str, float] = {}
    searched = SEARCHED[store.backend]
    shapes = {"whole": DATASTREAM_COLUMNS, "values": "d.id"}
    observation_columns = {"whole": OBSERVATION_COLUMNS, "values": VALUE_COLUMNS}
    with store.read_engine.connect() as connection:
        for shape, columns in shapes.items():
            for name, sql in (("searched", searched), ("kept", KEPT[store.backend])):
                statement = text(sql.format(d=columns, o=observation_columns[shape]))
                rows = connection.execute(statement).all()
                assert len(rows) == args.datastreams
                floors[f"{shape} {name}"] = median_ms(
                    lambda s=statement: connection.execute(s).all(), args.repeat
                )
        for name, (_, where, parameters) in count_queries(args).items():
            sql = "SELECT count(*) FROM observations" + (f" WHERE {where}" if where else "")
            if store.backend == "sqlite" and "since" in parameters:
                since = parameters["since"].strftime("%Y-%m-%d %H:%M:%S.%f")
                parameters = {"since": since}
            statement = text(sql)
            floors[name] = median_ms(
                lambda s=statement, p=parameters: connection.execute(s, p).scalar(), args.repeat
            )
    return floors


def measure_http(v: str, args: argparse.Namespace, floors: dict[str, float]) -> None:
    with httpx.Client(base_url=v, timeout=120) as client:
        requests = {
            "whole": f"/Datastreams?$top=1000&$expand={LATEST.format('')}",
            "values": (
                "/Datastreams?$top=1000&$select=id"
                f"&$expand={LATEST.format(';$select=result,phenomenonTime')}"
            ),
        }
        for shape, url in requests.items():
            decoding: list[float] = []

            def latest(url: str = url, decoding: list[float] = decoding) -> None:
                seen = 0
                decoded = 0.0
                while url:
                    response = client.get(url)
                    assert response.status_code == 200, response.text
                    started = time.perf_counter()
                    page = orjson.loads(response.content)
                    decoded += time.perf_counter() - started
                    seen += sum(1 for d in page["value"] if d["Observations"])
                    url = page.get("@iot.nextLink", "")
                decoding.append(decoded * 1000)
                expected = args.datastreams if args.per_datastream else 0
                assert seen == expected, seen

            took = median_ms(latest, args.repeat)
            searched, kept = floors[f"{shape} searched"], floors[f"{shape} kept"]
            print(
                f"  latest of {args.datastreams:,} datastreams ({shape}, paged): {took:8.1f} ms"
                f"   SQL searched {searched:.1f} ms ({took / searched:.2f}x)"
                f"   SQL kept {kept:.1f} ms ({took / kept:.2f}x)"
                f"   (the client's decoding {sorted(decoding)[len(decoding) // 2]:.1f} ms)"
            )
        total = args.datastreams * args.per_datastream
        for name, (path, _, _) in count_queries(args).items():

            def count(path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, response.text
                assert isinstance(response.json()["@iot.count"], int)

            took = median_ms(count, args.repeat)
            floor = floors[name]
            print(
                f"  $count, {name:<30} {took:8.2f} ms   SQL COUNT(*) {floor:8.2f} ms "
                f"({took / floor:.2f}x)   of {total:,} observations"
            )


if __name__ == "__main__":
    main()
