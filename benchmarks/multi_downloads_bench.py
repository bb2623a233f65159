"""A MultiDatastream's downloads beside a Datastream's of as many Observations.

    python benchmarks/multi_downloads_bench.py [--backend sqlite|postgresql|both]
        [--rows 1000000] [--components 3]

Loads ``--rows`` Observations into one Datastream (a number each) and as many into one
MultiDatastream of ``--components`` measured components (an array each), through the store's
bulk path, and runs each download's producer (``downloads.datastreams.produce``,
``downloads.multi_datastreams.produce``) to its end in one read transaction, without HTTP:

- floor: the Datastream's download of the same number of rows, in the same format — what a
  download costs before the components are taken out of the arrays;
- bare fetch: the MultiDatastream's CSV SELECT on the driver's cursor, every row fetched and
  dropped: what reading its rows costs before anything is written.

The MultiDatastream has ``--components`` values per row where the Datastream has one, so a
ratio below 100% is expected; the figure to watch is how far below.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from downloads_bench import load as load_datastream
from harness import MEASUREMENT, START, backends, hub_database, report
from sqlalchemy import Connection, select

from cityhub.downloads import datastreams, multi_datastreams, observations
from cityhub.downloads.observations import TimeRange
from cityhub.downloads.sql import tuples
from cityhub.downloads.streaming import Head
from cityhub.sensorthings import derived, writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.store import schema
from cityhub.store.access import NOTHING_HIDDEN
from cityhub.store.bulk import BulkLoader
from cityhub.store.database import Store

ROWS_PER_LOAD = 200_000
COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
_COLUMNS = (
    "multi_datastream_id",
    "feature_of_interest_id",
    "phenomenon_time_start",
    "result_time",
    "result_type",
    "result_json",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rows", type=int, default=1_000_000, help="Observations of each")
    parser.add_argument("--components", type=int, default=3, help="of the MultiDatastream")
    args = parser.parse_args()
    for backend in backends(args.backend):
        run_backend(backend, args)


def load_multi(store: Store, datastream: int, rows: int, width: int) -> int:
    """A MultiDatastream of ``width`` measured components on the Datastream's Thing, with
    ``rows`` Observations a second apart; its id."""
    multi, feature = store.write_blocking(lambda c: _create_multi(c, datastream, width))
    for first in range(0, rows, ROWS_PER_LOAD):
        count = min(ROWS_PER_LOAD, rows - first)
        store.write_blocking(
            lambda c, first=first, count=count: _load(c, multi, feature, width, first, count)
        )
    return multi


def _create_multi(connection: Connection, datastream: int, width: int) -> tuple[int, int]:
    """The MultiDatastream's id and its Thing's FeatureOfInterest's."""
    d = schema.datastreams.c
    thing, sensor = connection.execute(
        select(d.thing_id, d.sensor_id).where(d.id == datastream)
    ).one()
    body = {
        "name": "Mast",
        "description": "d",
        "observationType": COMPLEX,
        "unitOfMeasurements": [{"name": "u", "symbol": "u"}] * width,
        "multiObservationDataTypes": [MEASUREMENT] * width,
        "Thing": {"@iot.id": thing},
        "Sensor": {"@iot.id": sensor},
        "ObservedProperties": [
            {"name": f"value {i}", "definition": "x", "description": "d"} for i in range(width)
        ],
    }
    multi = writes.create(connection, BY_NAME["MultiDatastream"], body)
    return multi, derived.feature_from_location(connection, thing)


def _load(connection: Any, multi: int, feature: int, width: int, first: int, count: int) -> None:
    loader = BulkLoader(connection)
    times = loader.times([START + timedelta(seconds=first + i) for i in range(count)])
    results = loader.documents(
        [
            [round(-10 + (first + i + part) % 4000 / 100, 2) for part in range(width)]
            for i in range(count)
        ]
    )
    rows = zip(
        [multi] * count,
        [feature] * count,
        times,
        times,
        [schema.RESULT_JSON] * count,
        results,
        strict=True,
    )
    loader.load(schema.observations, _COLUMNS, rows)


def produce_seconds(store: Store, produce: Any) -> float:
    """Seconds a producer takes to its end (``produce(connection)``)."""
    started = time.perf_counter()
    with store.read_engine.connect() as connection, connection.begin():
        steps = produce(connection)
        assert isinstance(next(steps), Head)
        for _ in steps:
            pass
    return time.perf_counter() - started


def bare_fetch(store: Store, multi: int, width: int) -> float:
    """Seconds to fetch the MultiDatastream's CSV rows through SQLAlchemy's cursor."""
    started = time.perf_counter()
    with store.read_engine.connect() as connection, connection.begin():
        dialect = connection.dialect.name
        found = multi_datastreams.MultiDatastream(
            multi, [f"value {i}" for i in range(width)], [MEASUREMENT] * width
        )
        stream = multi_datastreams.multi_datastream(found, dialect)
        columns = observations.csv_columns(stream, dialect)
        statement = observations.select_rows(stream.owner, stream.id, TimeRange(), columns)
        for _ in tuples(connection, statement, observations.BATCH_ROWS):
            pass
    return time.perf_counter() - started


def run_backend(backend: str, args: argparse.Namespace) -> None:
    rows, width = args.rows, args.components
    print(f"\n== {backend}: {rows:,} Observations of a MultiDatastream of {width} components ==")
    with hub_database(backend, "multidownloads", "cityhub-multidownloads-") as (overrides, store):
        datastream = load_datastream(overrides, store, rows)
        multi = load_multi(store, datastream, rows, width)
        seconds = bare_fetch(store, multi, width)
        report("bare fetch of its CSV rows", f"{rows / seconds:,.0f} rows/s", "", 1.0)
        for extension in ("csv", "parquet", "geojson"):
            floor = produce_seconds(
                store,
                lambda c, ext=extension: datastreams.produce(
                    c, datastream, ext, NOTHING_HIDDEN, TimeRange()
                ),
            )
            multi_seconds = produce_seconds(
                store,
                lambda c, ext=extension: multi_datastreams.produce(
                    c, multi, ext, NOTHING_HIDDEN, TimeRange()
                ),
            )
            report(
                f"{extension}: MultiDatastream producer",
                f"{rows / multi_seconds:,.0f} rows/s",
                f"Datastream {rows / floor:,.0f} rows/s",
                floor / multi_seconds,
            )


if __name__ == "__main__":
    main()
