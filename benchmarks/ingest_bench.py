"""The bulk ingest path, CreateObservations, beside the database's own bulk-load floor.

    python benchmarks/ingest_bench.py [--backend sqlite|postgresql|both]
        [--datastreams 10] [--batch 1000] [--requests 200] [--clients 4]

For PostgreSQL it needs a server at CITYHUB_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres). Figures, each backend on a fresh database:

- floor: the same Observation rows loaded straight into the table in one transaction, the
  fastest way the backend offers (binary COPY on PostgreSQL, ``executemany`` on SQLite),
  with the database assigning ids; the ratios are to this figure. Beside it the same load
  committed every ``--batch`` rows, which shows what a commit per request costs (concurrent
  CreateObservations share a commit, so they can beat this one);
- in-process: ``ingest.load_observations`` through the store's writer, the requests already
  parsed (what the bulk path costs without HTTP and JSON);
- HTTP: CreateObservations requests of ``--batch`` rows from ``--clients`` concurrent clients
  against ``cityhub serve``, every answer checked; the ratio to the floor is the figure.

Beside the floor and the HTTP figure: the CPU time per Observation of the loading process and
of the server process, which a busy machine disturbs less than the rates.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
from harness import (
    START,
    TOKEN,
    backends,
    floor_load,
    hub_database,
    hub_env,
    running_hub,
    seed_datastreams,
)
from sqlalchemy import func, select

from cityhub.sensorthings import data_array
from cityhub.sensorthings.ingest import load_observations
from cityhub.store import schema
from cityhub.store.bulk import BulkLoader
from cityhub.store.database import Store

_FLOOR_COLUMNS = (
    "datastream_id",
    "phenomenon_time_start",
    "result_type",
    "result_number",
    "feature_of_interest_id",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--datastreams", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000, help="Observations per request")
    parser.add_argument("--requests", type=int, default=200, help="requests per figure")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    args = parser.parse_args()
    for backend in backends(args.backend):
        run_backend(backend, args)


# --- set-up ----------------------------------------------------------------------------------


def bodies(args: argparse.Namespace, offset: int) -> list[bytes]:
    """``--requests`` CreateObservations bodies, each ``--batch`` rows spread over a few
    Datastreams, with times no other body uses."""
    per_group = max(1, args.batch // min(args.datastreams, 4))
    result = []
    for number in range(args.requests):
        groups = []
        remaining = args.batch
        first = (number * args.batch + offset) * 1_000_000
        while remaining:
            rows = min(per_group, remaining)
            datastream = 1 + (number + len(groups)) % args.datastreams
            times = [START + timedelta(microseconds=first + remaining - i) for i in range(rows)]
            groups.append(
                {
                    "Datastream": {"@iot.id": datastream},
                    "components": ["phenomenonTime", "result"],
                    "dataArray": [
                        [t.isoformat().replace("+00:00", "Z"), 20 + (i % 100) / 10]
                        for i, t in enumerate(times)
                    ],
                }
            )
            remaining -= rows
        result.append(orjson.dumps(groups))
    return result


# --- figures ---------------------------------------------------------------------------------


def floor(store: Store, args: argparse.Namespace, per_transaction: int) -> tuple[float, float]:
    """Rows per second loaded straight into the table, ``per_transaction`` rows in each
    committed transaction, with values already in the form the database takes (times as text
    on SQLite) and ids assigned by the database; and the CPU time per row of this process."""
    feature = store.read_blocking(
        lambda c: c.scalar(select(func.min(schema.features_of_interest.c.id)))
    )
    total = args.requests * args.batch
    offset = total * (1 if per_transaction == total else 2)
    with store.write_engine.connect() as connection:
        loader = BulkLoader(connection)
        times = loader.times([START - timedelta(seconds=offset + i) for i in range(total)])
        rows = [(1, t, schema.RESULT_FLOAT, 20.5, feature) for t in times]
        connection.rollback()
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, total, per_transaction):
            with connection.begin():
                chunk = rows[start : start + per_transaction]
                floor_load(connection, schema.observations, _FLOOR_COLUMNS, chunk)
        return total / (time.perf_counter() - started), (time.process_time() - cpu) / total


def in_process(store: Store, args: argparse.Namespace) -> tuple[float, float]:
    """Observations per second through ``load_observations`` and the writer, no HTTP."""
    parsed = [data_array.parse_create(orjson.loads(b)) for b in bodies(args, offset=1)]
    total = args.requests * args.batch
    started, cpu = time.perf_counter(), time.process_time()
    for groups in parsed:
        ids = store.write_blocking(lambda c, groups=groups: load_observations(c, groups).ids)
        assert all(i is not None for group in ids for i in group)
    return total / (time.perf_counter() - started), (time.process_time() - cpu) / total


def over_http(base: str, server: int, args: argparse.Namespace) -> tuple[float, float]:
    """Observations per second of CreateObservations from concurrent clients."""
    prepared = bodies(args, offset=2)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    failures: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(prepared))

    def client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                response = http.post("/v1.1/CreateObservations", content=body)
                links = response.json() if response.status_code == 201 else None
                if links is None or "error" in links or len(links) != args.batch:
                    failures.append(response.text[:200])

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    started, cpu = time.perf_counter(), process_cpu(server)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, process_cpu(server) - cpu
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    total = args.requests * args.batch
    return total / elapsed, cpu / total


def process_cpu(pid: int) -> float:
    """CPU seconds a process used so far (Linux); NaN where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_backend(backend: str, args: argparse.Namespace) -> None:
    print(f"\n== {backend}: {args.requests} x {args.batch} Observations ==")
    with hub_database(backend, "ingest", "cityhub-ingest-") as (overrides, store):
        # One Thing, its Location and ``--datastreams`` Datastreams.
        store.write_blocking(lambda c: seed_datastreams(c, args.datastreams, thing_name="T"))
        total = args.requests * args.batch
        floor_rate, floor_cpu = floor(store, args, per_transaction=total)
        report("floor: one transaction", floor_rate, floor_rate, floor_cpu)
        batched, batched_cpu = floor(store, args, per_transaction=args.batch)
        report(f"floor: {args.batch:,} rows a transaction", batched, floor_rate, batched_cpu)
        report("load_observations, in process", *in_process(store, args)[:1], floor_rate)
        with running_hub(overrides, hub_env()) as (process, base):
            rate, cpu = over_http(base, process.pid, args)
            report(f"CreateObservations, {args.clients} clients", rate, floor_rate, cpu)
        expected = args.requests * args.batch * 4
        stored = store.read_blocking(
            lambda c: c.scalar(select(func.count()).select_from(schema.observations))
        )
        assert stored == expected, (stored, expected)


def report(name: str, rate: float, floor_rate: float, cpu: float | None = None) -> None:
    """One figure; ``cpu`` is the CPU time per Observation of the process doing the work
    (on SQLite that includes the database's own work, on PostgreSQL it does not)."""
    line = f"  {name:<36} {rate:>10,.0f} obs/s   {rate / floor_rate:>5.0%} of the floor"
    if cpu is not None:
        line += f"   {cpu * 1e6:5.1f} µs CPU per Observation"
    print(line)


if __name__ == "__main__":
    main()
