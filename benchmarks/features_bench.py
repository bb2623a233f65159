"""OGC API – Features on 100,000 features, each figure beside SQL from the same run.

    python benchmarks/features_bench.py [--backend sqlite|postgresql|both]
        [--features 100000] [--repeat 50]

Loads N points (public places spread over Solingen, about 11 × 13 km) and 30 district
polygons, starts the hub (``cityhub serve``) and measures with httpx (one keep-alive
connection) the median time a client waits for:

- a bbox query of about 500 × 500 m (``limit=100``, with ``numberMatched``);
- a CQL2 filter: a property comparison and ``S_INTERSECTS`` with the same box;
- ``/features/nearby`` (the 5 nearest with their distance in metres);
- one item by id;
- counts of all N features per district.

Each beside its floor: the same rows selected by one SQL statement through the same driver
(index-assisted: GiST on PostGIS, the R*Tree on SQLite), plus one HTTP round trip to a bare
Starlette app (``floor_app.py`` under uvicorn) measured in the same run; the face's own
round trip without the database (``/features/conformance``) is shown beside the latter.
PostgreSQL needs a server at CITYHUB_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from harness import (
    backends,
    hub_database,
    hub_env,
    median_ms,
    report,
    running_hub,
    start_server,
    stop,
)
from sqlalchemy import Connection, insert, text

from cityhub.features.write import ensure_collection
from cityhub.store import schema
from cityhub.store.database import Store

WEST, SOUTH, EAST, NORTH = 7.00, 51.10, 7.16, 51.22
BOX = (7.075, 51.165, 7.0822, 51.1695)  # about 500 m × 500 m in the centre
HERE = (7.0831, 51.1712)
CHUNK = 10_000
FOLDER = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50, help="runs per figure (median)")
    args = parser.parse_args()
    http_ms = http_floor(args.repeat)
    for backend in backends(args.backend):
        print(f"{backend}: {args.features:,} features")
        with hub_database(backend, "features") as (overrides, store):
            ids = load(overrides, store, args.features)
            store.close()
            with running_hub(overrides, hub_env(admin_token=False)) as (_, base):
                measure(base, Store(store.settings), backend, ids, args.repeat, http_ms)


def http_floor(repeat: int) -> float:
    """Median ms of a GET to the bare Starlette floor app, over one keep-alive connection."""
    command = [sys.executable, "-m", "uvicorn", "floor_app:app", "--port", "0"]
    command += ["--log-level", "info", "--no-access-log"]
    process, base = start_server(command, {**os.environ, "PYTHONPATH": str(FOLDER)})
    try:
        with httpx.Client(base_url=base) as client:
            return median_ms(lambda: client.get("/get"), max(repeat, 100))
    finally:
        stop(process)


# --- data ------------------------------------------------------------------------------------


def load(overrides: dict[str, Any], store: Store, count: int) -> list[int]:
    started = time.perf_counter()
    now = datetime.now(UTC)

    def dataset(connection: Connection) -> tuple[int, int]:
        dataset_id = connection.execute(
            insert(schema.datasets).returning(schema.datasets.c.id),
            {
                "slug": "bench",
                "title": "Bench",
                "licence": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
                "keywords": [],
                "themes": [],
                "visibility": "public",
                "created_at": now,
                "modified_at": now,
            },
        ).scalar_one()
        places = ensure_collection(connection, dataset_id, "orte", title="Orte")
        districts = ensure_collection(connection, dataset_id, "bezirke", title="Bezirke")
        return places, districts

    places, districts = store.write_blocking(dataset)
    random.seed(7)
    for first in range(0, count, CHUNK):
        rows = [
            _row(
                places,
                {"name": f"Ort {i}", "kategorie": f"k{i % 10}", "plaetze": i % 50},
                {
                    "type": "Point",
                    "coordinates": [
                        round(random.uniform(WEST, EAST), 6),
                        round(random.uniform(SOUTH, NORTH), 6),
                    ],
                },
                now,
            )
            for i in range(first, min(first + CHUNK, count))
        ]
        store.write_blocking(lambda c, rows=rows: c.execute(insert(schema.features), rows))
    store.write_blocking(lambda c: c.execute(insert(schema.features), _districts(districts, now)))
    if "database_url" in overrides:
        with psycopg.connect(overrides["database_url"], autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
    else:
        store.write_blocking(lambda c: c.execute(text("ANALYZE")))
    ids = store.read_blocking(
        lambda c: list(c.scalars(text("SELECT id FROM features ORDER BY id LIMIT 1000")))
    )
    print(f"  loaded {count:,} features in {time.perf_counter() - started:.1f} s")
    return ids


def _row(collection: int, properties: dict[str, Any], geometry: Any, now: datetime) -> dict:
    return {
        "collection_id": collection,
        "properties": properties,
        "geom": orjson.dumps(geometry).decode(),
        "created_at": now,
        "modified_at": now,
    }


def _districts(collection: int, now: datetime) -> list[dict[str, Any]]:
    """A 6 × 5 grid of rectangles over the whole area."""
    width, height = (EAST - WEST) / 6, (NORTH - SOUTH) / 5
    rows = []
    for column in range(6):
        for line in range(5):
            x, y = WEST + column * width, SOUTH + line * height
            ring = [[x, y], [x + width, y], [x + width, y + height], [x, y + height], [x, y]]
            polygon = {"type": "Polygon", "coordinates": [ring]}
            rows.append(_row(collection, {"name": f"Bezirk {column}-{line}"}, polygon, now))
    return rows


# --- floors: the same rows by one SQL statement --------------------------------------------

_SQL = {
    "postgresql": {
        "bbox": (
            "SELECT id, properties, ST_AsGeoJSON(geom) FROM features WHERE collection_id = 1 "
            "AND ST_Intersects(geom, ST_MakeEnvelope({box}, 4326)) ORDER BY id LIMIT 100; "
        ),
        "bbox count": (
            "SELECT count(*) FROM features WHERE collection_id = 1 "
            "AND ST_Intersects(geom, ST_MakeEnvelope({box}, 4326))"
        ),
        "cql2": (
            "SELECT id, properties, ST_AsGeoJSON(geom) FROM features WHERE collection_id = 1 "
            "AND properties->>'kategorie' = 'k3' "
            "AND ST_Intersects(geom, ST_MakeEnvelope({box}, 4326)) ORDER BY id LIMIT 100"
        ),
        "nearby": (
            "SELECT id, properties, ST_AsGeoJSON(geom), "
            "ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint({x}, {y}), 4326)::geography) "
            "FROM features WHERE collection_id = 1 "
            "ORDER BY geom <-> ST_SetSRID(ST_MakePoint({x}, {y}), 4326) LIMIT 5"
        ),
        "item": "SELECT id, properties, ST_AsGeoJSON(geom) FROM features WHERE id = {id}",
        "counts": (
            "SELECT d.id, count(f.id) FROM features d LEFT JOIN features f "
            "ON f.collection_id = 1 AND ST_Within(f.geom, d.geom) WHERE d.collection_id = 2 "
            "GROUP BY d.id"
        ),
    },
    "sqlite": {
        "bbox": (
            "SELECT f.id, f.properties, f.geom FROM features f JOIN features_geom_rtree r "
            "ON r.id = f.id WHERE r.minx <= {x2} AND r.maxx >= {x1} AND r.miny <= {y2} "
            "AND r.maxy >= {y1} AND f.collection_id = 1 ORDER BY f.id LIMIT 100"
        ),
        "bbox count": (
            "SELECT count(*) FROM features f JOIN features_geom_rtree r "
            "ON r.id = f.id WHERE r.minx <= {x2} AND r.maxx >= {x1} AND r.miny <= {y2} "
            "AND r.maxy >= {y1} AND f.collection_id = 1"
        ),
        "cql2": (
            "SELECT f.id, f.properties, f.geom FROM features f JOIN features_geom_rtree r "
            "ON r.id = f.id WHERE r.minx <= {x2} AND r.maxx >= {x1} AND r.miny <= {y2} "
            "AND r.maxy >= {y1} AND f.collection_id = 1 "
            "AND json_extract(f.properties, '$.kategorie') = 'k3' ORDER BY f.id LIMIT 100"
        ),
        "nearby": (
            "SELECT f.id, f.properties, f.geom FROM features f JOIN features_geom_rtree r "
            "ON r.id = f.id WHERE r.minx <= {x} + 0.004 AND r.maxx >= {x} - 0.004 "
            "AND r.miny <= {y} + 0.0025 AND r.maxy >= {y} - 0.0025 AND f.collection_id = 1 "
            "ORDER BY ((r.minx - {x}) * 69.9) * ((r.minx - {x}) * 69.9) "
            "+ ((r.miny - {y}) * 111.2) * ((r.miny - {y}) * 111.2) LIMIT 5"
        ),
        "item": "SELECT id, properties, geom FROM features WHERE id = {id}",
        "counts": (
            "SELECT d.id, (SELECT count(*) FROM features_geom_rtree r JOIN features f "
            "ON f.id = r.id WHERE r.minx <= ST_XMax(d.geom) AND r.maxx >= ST_XMin(d.geom) "
            "AND r.miny <= ST_YMax(d.geom) AND r.maxy >= ST_YMin(d.geom) "
            "AND f.collection_id = 1) FROM features d WHERE d.collection_id = 2"
        ),
    },
}


def _floor(store: Store, backend: str, name: str, **values: Any) -> Callable[[], None]:
    x1, y1, x2, y2 = BOX
    statement = _SQL[backend][name].format(
        box=f"{x1}, {y1}, {x2}, {y2}", x1=x1, y1=y1, x2=x2, y2=y2, x=HERE[0], y=HERE[1], **values
    )

    def run() -> None:
        store.read_blocking(lambda c: c.exec_driver_sql(statement).all())

    run()
    return run


# --- measurements ----------------------------------------------------------------------------


def measure(
    base: str, store: Store, backend: str, ids: list[int], repeat: int, http_ms: float
) -> None:
    box = ",".join(str(v) for v in BOX)
    bbox_filter = f"kategorie = 'k3' AND S_INTERSECTS(geometry, BBOX({box}))"
    item = ids[len(ids) // 2]
    with httpx.Client(base_url=base + "/features", timeout=60) as client:

        def get(path: str, **params: Any) -> Any:
            def call() -> None:
                response = client.get(path, params=params)
                assert response.status_code == 200, response.text

            call()
            return call

        face_ms = median_ms(get("/conformance"), max(repeat, 100))
        report(
            "HTTP round trip (conformance)",
            f"{face_ms:.2f} ms",
            f"bare Starlette {http_ms:.2f} ms",
            face_ms / http_ms,
            lower_is_better=True,
        )
        bbox_floor = _floor(store, backend, "bbox")
        count_floor = _floor(store, backend, "bbox count")
        cases = [
            (
                "bbox 500 m, limit 100",
                get("/collections/orte/items", bbox=box, limit=100),
                lambda: (bbox_floor(), count_floor()),
                "SELECT + count",
            ),
            (
                "CQL2 property and S_INTERSECTS",
                get("/collections/orte/items", filter=bbox_filter, limit=100),
                _floor(store, backend, "cql2"),
                "SELECT",
            ),
            (
                "nearby, 5 nearest",
                get("/nearby", lon=HERE[0], lat=HERE[1], limit=5, collections="orte"),
                _floor(store, backend, "nearby"),
                "SELECT (KNN)",
            ),
            (
                "one item",
                get(f"/collections/orte/items/{item}"),
                _floor(store, backend, "item", id=item),
                "SELECT by id",
            ),
            (
                "counts per district (30)",
                get("/collections/orte/counts", within="bezirke"),
                _floor(store, backend, "counts"),
                "SELECT … GROUP BY",
            ),
        ]
        for name, call, floor, floor_name in cases:
            hub_ms = median_ms(call, repeat if "counts" not in name else max(3, repeat // 10))
            floor_ms = median_ms(floor, repeat if "counts" not in name else max(3, repeat // 10))
            report(
                name,
                f"{hub_ms:.2f} ms",
                f"{floor_name} {floor_ms:.2f} ms + HTTP",
                hub_ms / (floor_ms + http_ms),
                lower_is_better=True,
            )
    store.close()


if __name__ == "__main__":
    main()
