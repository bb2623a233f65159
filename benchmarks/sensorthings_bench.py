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
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from harness import (
    START,
    backends,
    hub_database,
    hub_env,
    median_ms,
    post_script,
    report,
    running_hub,
    seed_datastreams,
    start_server,
    stop,
    wrk,
)
from sqlalchemy import insert, text

from cityhub.sensorthings import derived
from cityhub.store import schema
from cityhub.store.database import Store
from cityhub.store.writer import GroupCommitWriter

HERE = Path(__file__).parent
LATEST = (
    "/Datastreams?$top=1000&$select=id&$expand=Observations($top=1;$orderby=phenomenonTime desc)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--datastreams", type=int, default=1000)
    parser.add_argument("--per-datastream", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    floor_post, floor_get, floor_latency = http_floor(args)
    print(
        f"floor: bare Starlette POST {floor_post:,.0f} req/s, GET {floor_get:,.0f} req/s, "
        f"one GET {floor_latency:.2f} ms (same client as below)"
    )
    for backend in backends(args.backend):
        run_backend(backend, args, floor_post, floor_latency)


# --- servers and load ------------------------------------------------------------------------


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


def load(store: Store, args: argparse.Namespace) -> None:
    """The seed Thing with ``--datastreams`` Datastreams of ``--per-datastream`` Observations."""
    started = time.perf_counter()
    store.write_blocking(lambda c: seed(c, store, args))
    total = args.datastreams * args.per_datastream
    print(
        f"  loaded {total:,} observations in {args.datastreams:,} datastreams "
        f"in {time.perf_counter() - started:.1f} s"
    )


def seed(connection, store: Store, args: argparse.Namespace) -> None:
    ids, feature = seed_datastreams(connection, args.datastreams)
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
    with hub_database(backend) as (overrides, store):
        load(store, args)
        commit_floor = one_row_commits(store)
        sql_range, sql_latest = raw_queries(store, args)
        with running_hub(overrides, hub_env()) as (_, base):
            floors = (floor_post, floor_latency, commit_floor, sql_range, sql_latest)
            measure_http(base, args, *floors)


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


if __name__ == "__main__":
    main()
