"""The thin layer where SQLite and PostgreSQL differ: connections and spatial SQL (bulk
loading is in ``bulk``).

On SQLite, the PostGIS functions the hub uses are registered under their PostGIS names,
computed with shapely, so every query is written once for both backends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC
from functools import lru_cache, partial
from typing import Any

import orjson
import shapely
from shapely.errors import GEOSException
from shapely.geometry import mapping, shape
from sqlalchemy import ColumnElement, Connection, Engine, any_, bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY

from cityhub.errors import BadRequest
from cityhub.settings import Settings
from cityhub.store import folding
from cityhub.timeutil import STRICT_INSTANT_PATTERN, parse_instant


class StoreSetupError(Exception):
    """The database cannot be used as configured; the message says what to do."""


# --- SQLite --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _geometry(geojson: str) -> shapely.Geometry:
    return shape(orjson.loads(geojson))


_POINT_PREFIX = '{"type":"Point","coordinates":['


@lru_cache(maxsize=64)
def _plain_point(geojson: str) -> tuple[float, float] | None:
    """(x, y) of compact 2D Point text, as the hub writes it; None for anything else.

    Most geometries written are points: they are normalised and indexed without shapely.
    """
    if not geojson.startswith(_POINT_PREFIX):
        return None
    try:
        parsed = orjson.loads(geojson)
    except orjson.JSONDecodeError:
        return None
    position = parsed.get("coordinates")
    if len(parsed) != 2 or len(position) != 2:
        return None
    x, y = position
    if type(x) not in (int, float) or type(y) not in (int, float):
        return None
    return float(x), float(y)


def normalise_geojson(value: str | None) -> str | None:
    """GeoJSON text as the SQLite geometry columns keep it (``ST_GeomFromGeoJSON`` there)."""
    if value is None:
        return None
    point = _plain_point(value)
    if point is not None:
        return orjson.dumps({"type": "Point", "coordinates": point}).decode()
    return orjson.dumps(mapping(_geometry(value))).decode()


def _predicate(name: str) -> Callable[[str | None, str | None], int | None]:
    def apply(a: str | None, b: str | None) -> int | None:
        if a is None or b is None:
            return None
        try:
            return int(getattr(_geometry(a), name)(_geometry(b)))
        except GEOSException:  # an invalid stored geometry matches nothing
            return None

    return apply


def _bound(index: int) -> Callable[[str | None], float | None]:
    def apply(value: str | None) -> float | None:
        if value is None:
            return None
        point = _plain_point(value)
        if point is not None:
            return point[index % 2]
        return float(_geometry(value).bounds[index])

    return apply


def _relate(a: str | None, b: str | None, pattern: str | None) -> int | None:
    if a is None or b is None or pattern is None:
        return None
    try:
        return int(_geometry(a).relate_pattern(_geometry(b), pattern))
    except GEOSException:
        return None


def _distance(a: str | None, b: str | None) -> float | None:
    return None if a is None or b is None else float(_geometry(a).distance(_geometry(b)))


def metres_per_degree(latitude: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude on the WGS 84 ellipsoid there."""
    phi = math.radians(latitude)
    along_meridian = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    along_parallel = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
    return along_parallel, along_meridian


def _distance_metres(a: str | None, b: str | None) -> float | None:
    """Metres between WGS 84 geometries, in a plane scaled to metres where they are.

    Between points it agrees with PostGIS's geography distance to centimetres over a city;
    beside long edges it differs by metres (PostGIS follows edges as great-circle arcs). It
    is the exact check behind an R*Tree box search.
    """
    if a is None or b is None:
        return None
    first, second = _geometry(a), _geometry(b)
    min_y = min(first.bounds[1], second.bounds[1])
    max_y = max(first.bounds[3], second.bounds[3])
    x_scale, y_scale = metres_per_degree((min_y + max_y) / 2)
    scale = [x_scale, y_scale]
    try:
        return float(
            shapely.transform(first, lambda c: c * scale).distance(
                shapely.transform(second, lambda c: c * scale)
            )
        )
    except GEOSException:
        return None


def _power(base: float | None, exponent: float | None) -> float | None:
    """``base ^ exponent``; NULL where the result is no real number (as for a / 0)."""
    if base is None or exponent is None:
        return None
    try:
        result = math.pow(base, exponent)
    except (OverflowError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _length(a: str | None) -> float | None:
    return None if a is None else _linear_length(_geometry(a))


def _linear_length(geometry: shapely.Geometry) -> float:
    """Length of the lines only, as PostGIS's ST_Length: 0 for points and polygons."""
    if geometry.geom_type in ("LineString", "LinearRing", "MultiLineString"):
        return float(geometry.length)
    if geometry.geom_type == "GeometryCollection":
        return sum(_linear_length(part) for part in geometry.geoms)
    return 0.0


_ISO_INSTANT = re.compile(STRICT_INSTANT_PATTERN)


def _instant(value: object) -> str | None:
    """An ISO 8601 instant as stored UTC text, NULL for anything else (filters on JSON)."""
    if not isinstance(value, str) or not _ISO_INSTANT.fullmatch(value):
        return None
    try:
        return parse_instant(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    except BadRequest:  # a 31 February
        return None


#: The OGC simple-features predicates, as shapely and PostGIS (``ST_<Name>``) name them.
SPATIAL_PREDICATES = (
    "equals",
    "disjoint",
    "touches",
    "within",
    "overlaps",
    "crosses",
    "intersects",
    "contains",
)

_FOLDS = folding.SQLITE_FUNCTIONS

_SQLITE_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "ST_GeomFromGeoJSON": (1, normalise_geojson),
    "ST_SetSRID": (2, lambda value, srid: value),
    "ST_AsGeoJSON": (1, lambda value: value),
    "ST_XMin": (1, _bound(0)),
    "ST_YMin": (1, _bound(1)),
    "ST_XMax": (1, _bound(2)),
    "ST_YMax": (1, _bound(3)),
    "ST_Relate": (3, _relate),
    "ST_Distance": (2, _distance),
    "ST_Length": (1, _length),
    "cityhub_instant": (1, _instant),
    "cityhub_distance_metres": (2, _distance_metres),
    "power": (2, _power),
    **{name: (1, partial(folding.fold, kind=kind)) for kind, name in _FOLDS.items()},
    **{f"ST_{name.title()}": (2, _predicate(name)) for name in SPATIAL_PREDICATES},
}


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a raw sqlite3 connection the spatial functions the schema and queries use."""
    for name, (arity, function) in _SQLITE_FUNCTIONS.items():
        dbapi_connection.create_function(name, arity, function, deterministic=True)


def configure_sqlite(engine: Engine, settings: Settings, begin: str) -> None:
    """WAL, foreign keys, durability, cache, spatial functions; ``begin`` opens transactions."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"synchronous={settings.sqlite_synchronous}",
            "foreign_keys=ON",
            "busy_timeout=30000",
            f"cache_size=-{settings.sqlite_cache_mb * 1024}",
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)


def sqlite_geometry_index(table: str) -> tuple[str, str]:
    """The names of the R*Tree index of ``table.geom`` and of the trigger filling it on
    insert."""
    return f"{table}_geom_rtree", f"{table}_geom_insert"


def sqlite_geometry_index_ddl(table: str) -> list[str]:
    """R*Tree bounding-box index of ``table.geom``, kept current by triggers."""
    index, insert_trigger = sqlite_geometry_index(table)
    box = "NEW.id, ST_XMin(NEW.geom), ST_XMax(NEW.geom), ST_YMin(NEW.geom), ST_YMax(NEW.geom)"
    return [
        f"CREATE VIRTUAL TABLE {index} USING rtree(id, minx, maxx, miny, maxy)",
        f"CREATE TRIGGER {insert_trigger} AFTER INSERT ON {table} "
        f"WHEN NEW.geom IS NOT NULL BEGIN INSERT INTO {index} VALUES ({box}); END",
        f"CREATE TRIGGER {table}_geom_update AFTER UPDATE OF geom ON {table} BEGIN "
        f"DELETE FROM {index} WHERE id = OLD.id; "
        f"INSERT INTO {index} SELECT {box} WHERE NEW.geom IS NOT NULL; END",
        f"CREATE TRIGGER {table}_geom_delete AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {index} WHERE id = OLD.id; END",
    ]


def sqlite_geometry_index_fill(table: str) -> list[str]:
    """What the insert trigger does, for every row with ``id > ?`` at once (each statement
    takes that id): after a bulk load made without the trigger.

    Points, most of what is written, get their box from SQLite's own JSON functions, so the
    whole statement runs without calling back into Python; other geometries go through the
    same functions as the trigger.
    """
    index, _ = sqlite_geometry_index(table)
    kind = "json_extract(geom, '$.type')"
    return [
        f"INSERT INTO {index} SELECT id, x, x, y, y FROM (SELECT id, "
        "json_extract(geom, '$.coordinates[0]') AS x, json_extract(geom, '$.coordinates[1]') AS y "
        f"FROM {table} WHERE id > ? AND {kind} = 'Point')",
        f"INSERT INTO {index} SELECT id, ST_XMin(geom), ST_XMax(geom), ST_YMin(geom), "
        f"ST_YMax(geom) FROM {table} WHERE id > ? AND geom IS NOT NULL AND {kind} IS NOT 'Point'",
    ]


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_postgis(connection: Connection) -> None:
    """Create the PostGIS extension if missing, or say exactly who must do what."""
    installed = connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
    ).first()
    if installed:
        return
    available = connection.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    ).first()
    database = connection.execute(text("SELECT current_database()")).scalar_one()
    if not available:
        raise StoreSetupError(
            "PostGIS is not installed on the PostgreSQL server. Install it (on Debian: "
            "apt-get install postgresql-15-postgis-3, matching your server version), then run "
            f'as a superuser: psql -d {database} -c "CREATE EXTENSION postgis;"'
        )
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except Exception as exc:  # the role may not create extensions
        role = connection.execute(text("SELECT current_user")).scalar_one()
        raise StoreSetupError(
            f'The role "{role}" may not create the PostGIS extension in database '
            f'"{database}". Ask a superuser to run: psql -d {database} -c '
            f'"CREATE EXTENSION postgis;"  ({type(exc).__name__})'
        ) from None


def one_of(connection: Connection, column: Any, values: Any) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``: one parameter however
    many values, where thousands of placeholders cost more to build and parse than the
    query takes to run."""
    if connection.dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
