"""Feature import of a 100,000-row CSV, beside a bare insert of the same rows.

    python benchmarks/import_bench.py [--backend sqlite|postgresql|both] [--rows 100000]

For PostgreSQL it needs a server at CITYHUB_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres). The CSV is written the way German offices
write it (Windows-1252, semicolons, decimal commas, a title line). Figures, each backend on a
fresh database:

- floor: the rows the import writes (properties, GeoJSON geometry, key), already built in
  Python, inserted into ``features`` with one ``executemany`` in one transaction; the ratios
  are to this figure;
- read: the CSV read and typed (encoding, delimiter, header, numbers, points), no database;
- import: ``import_features`` with a key, into an empty collection: reading, checking,
  writing, in one transaction through the store's writer (what ``cityhub import`` does);
- re-import: the same file again, every feature unchanged (compared, not written).

Beside the rates: the CPU time per row of this process (on SQLite all of the work; on
PostgreSQL without the server's share), which a busy machine disturbs less than the rates.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness import backends, hub_database, report
from sqlalchemy import insert

from cityhub.datasets.manage import create_dataset
from cityhub.features.imports import ImportOptions, SourceRow, open_reader
from cityhub.features.imports.run import ImportTarget, import_features
from cityhub.features.write import ensure_collection
from cityhub.geometry import geojson_text
from cityhub.store import schema

KINDS = ("Linde", "Eiche", "Buche", "Ahorn", "Kastanie", "Platane")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    source = write_csv(args.rows)
    data = source.read_bytes()
    print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB of CSV")
    started = time.perf_counter()
    rows = [row for row in open_reader(data, ImportOptions(), source.name) if _ok(row)]
    read_rate = len(rows) / (time.perf_counter() - started)
    assert len(rows) == args.rows, f"{args.rows - len(rows)} rows rejected"
    for backend in backends(args.backend):
        print(f"{backend}:")
        run_backend(backend, data, rows, read_rate)


def _ok(row: object) -> bool:
    return isinstance(row, SourceRow)


def write_csv(count: int) -> Path:
    """A tree register: title, blank line, header, then ``count`` trees around Solingen."""
    lines = ["Baumkataster der Stadt Solingen", "", "Baumnr;Art;Pflanzjahr;Höhe m;Breite;Länge"]
    for i in range(count):
        lat = f"{51.10 + (i % 1000) / 10_000:.6f}".replace(".", ",")
        lon = f"{6.98 + (i // 1000) / 1_000:.6f}".replace(".", ",")
        height = f"{5 + i % 25},{i % 10}"
        lines.append(f"B-{i:06d};{KINDS[i % len(KINDS)]};{1950 + i % 70};{height};{lat};{lon}")
    path = Path(tempfile.mkdtemp(prefix="cityhub-import-bench-")) / "baumkataster.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("windows-1252"))
    return path


def run_backend(backend: str, data: bytes, rows: list[SourceRow], read_rate: float) -> None:
    with hub_database(backend, "import") as (_, store):

        def setup(connection):
            dataset = create_dataset(connection, slug="baeume", title="Bäume", licence="cc-zero")
            return dataset, ensure_collection(connection, dataset, "floor")

        dataset, floor_collection = store.write_blocking(setup)
        floor_rate, floor_cpu = _floor(store, floor_collection, rows)
        target = ImportTarget(str(dataset), "baumkataster", key="Baumnr")

        def timed_import() -> tuple[float, float, dict]:
            reader = open_reader(data, ImportOptions(), "baumkataster.csv")
            started, cpu = time.perf_counter(), time.process_time()
            result = store.write_blocking(lambda c: import_features(c, reader, target))
            rate = len(rows) / (time.perf_counter() - started)
            return rate, _micros(cpu, len(rows)), result.summary.as_dict()

        first_rate, first_cpu, first = timed_import()
        assert first["created"] == len(rows), first
        again_rate, again_cpu, again = timed_import()
        assert again["unchanged"] == len(rows), again
        floor = f"{floor_rate:,.0f} rows/s"
        report("read (no database)", f"{read_rate:,.0f} rows/s", floor, read_rate / floor_rate)
        report("import, keyed", f"{first_rate:,.0f} rows/s", floor, first_rate / floor_rate)
        report("re-import, unchanged", f"{again_rate:,.0f} rows/s", floor, again_rate / floor_rate)
        print(
            f"  CPU of this process per row: floor {floor_cpu:.0f} µs, import {first_cpu:.0f} µs, "
            f"re-import {again_cpu:.0f} µs"
        )


def _micros(cpu_started: float, rows: int) -> float:
    return (time.process_time() - cpu_started) / rows * 1e6


def _floor(store, collection_id: int, rows: list[SourceRow]) -> tuple[float, float]:
    """Rows per second of one bare executemany of the finished rows, and CPU µs per row."""
    now = datetime.now(UTC)
    values = [
        {
            "collection_id": collection_id,
            "key": row.properties["Baumnr"],
            "properties": row.properties,
            "geom": geojson_text(row.geometry),
            "created_at": now,
            "modified_at": now,
        }
        for row in rows
    ]
    started, cpu = time.perf_counter(), time.process_time()
    store.write_blocking(lambda c: c.execute(insert(schema.features), values))
    return len(rows) / (time.perf_counter() - started), _micros(cpu, len(rows))


if __name__ == "__main__":
    main()
