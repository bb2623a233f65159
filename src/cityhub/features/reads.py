"""Reading features: a page of items, one item, the nearest items, counts per district.

Rows come back as ``Item``s with their stored properties and WGS 84 GeoJSON geometry; live
values are merged in by the caller for the rows of one page only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy
import orjson
import shapely
import shapely.geometry
from sqlalchemy import ColumnElement, Connection, and_, case, func, select

from cityhub.features import geo, sources
from cityhub.features.sources import Source
from cityhub.store.access import Hidden

#: Radii (metres) tried in turn when the nearest features are asked for without a radius;
#: the last holds the whole Earth.
SEARCH_RADII = (250.0, 1000.0, 4000.0, 16000.0, 64000.0, 256000.0, 1024000.0, 20100000.0)


@dataclass
class Item:
    id: int
    properties: dict[str, Any]
    geometry: dict[str, Any] | None
    time_start: datetime | None
    time_end: datetime | None
    thing_id: int | None
    distance: float | None = None


@dataclass
class Page:
    items: list[Item]
    matched: int | None


def _columns(source: Source) -> list[Any]:
    columns = [
        source.c.id,
        source.c.properties,
        source.c.geom,
        source.c.time_start,
        source.c.time_end,
        source.c.thing_id,
    ]
    return columns + [source.c[name] for name in source.extra]


def _item(row: Any, source: Source, distance: float | None = None) -> Item:
    properties = dict(row[1] or {})
    for offset, name in enumerate(source.extra):
        properties.setdefault(name, row[6 + offset])
    geometry = None if row[2] is None else orjson.loads(row[2])
    return Item(row[0], properties, geometry, row[3], row[4], row[5], distance)


def page(
    connection: Connection,
    source: Source,
    conditions: list[ColumnElement[bool]],
    limit: int,
    offset: int,
) -> Page:
    """Items by id, and how many match in all."""
    statement = (
        select(*_columns(source))
        .where(*conditions)
        .order_by(source.c.id)
        .limit(limit)
        .offset(offset)
    )
    items = [_item(row, source) for row in connection.execute(statement)]
    if offset == 0 and len(items) < limit:
        matched = len(items)
    else:
        count = select(func.count()).select_from(source.table).where(*conditions)
        matched = connection.execute(count).scalar_one()
    return Page(items, matched)


def one(connection: Connection, source: Source, feature_id: int) -> Item | None:
    statement = select(*_columns(source)).where(*source.base, source.c.id == feature_id)
    row = connection.execute(statement).first()
    return None if row is None else _item(row, source)


def nearest(
    connection: Connection,
    source: Source,
    conditions: list[ColumnElement[bool]],
    distance: geo.Distance,
    count: int,
    radius: float | None,
) -> list[Item]:
    """The ``count`` features nearest the point, nearest first, within ``radius`` metres if
    given; else searched within growing radii until ``count`` are found. Exact: only features
    within the radius tried are ranked, so none nearer can be missed."""
    radii = (radius,) if radius is not None else SEARCH_RADII
    ordering = distance.ordering().label("ordering")
    for tried in radii:
        statement = (
            select(*_columns(source), ordering)
            .where(*conditions, *distance.within(tried))
            .order_by(ordering, source.c.id)
            .limit(count)
        )
        rows = connection.execute(statement).all()
        if len(rows) >= count or tried == radii[-1]:
            return [_item(row, source, distance.metres(row[-1])) for row in rows]
    return []


def count_nearby(
    connection: Connection,
    source: Source,
    conditions: list[ColumnElement[bool]],
    distance: geo.Distance,
    radius: float,
) -> int:
    statement = (
        select(func.count()).select_from(source.table).where(*conditions, *distance.within(radius))
    )
    return int(connection.execute(statement).scalar_one())


def geometry_of(connection: Connection, source: Source, feature_id: int) -> Any:
    """The GeoJSON geometry of one feature of ``source``; False if there is no such feature."""
    row = connection.execute(
        select(source.c.geom).where(*source.base, source.c.id == feature_id)
    ).first()
    if row is None:
        return False
    return None if row[0] is None else orjson.loads(row[0])


def counts_within(
    connection: Connection,
    counted: Source,
    conditions: list[ColumnElement[bool]],
    areas: Source,
) -> list[tuple[int, dict[str, Any], int]]:
    """For every feature of ``areas`` (districts): its id, properties and how many features
    of ``counted`` lie within it; the geometry index finds the candidates on both backends."""
    if connection.dialect.name == "postgresql":
        return _counts_in_one_statement(connection, counted, conditions, areas)
    rows = connection.execute(
        select(areas.c.id, areas.c.properties, areas.c.geom).where(*areas.base).order_by(areas.c.id)
    ).all()
    found = []
    for area_id, properties, geojson in rows:
        geometry = None if geojson is None else orjson.loads(geojson)
        count = 0 if geometry is None else _count_in(connection, counted, conditions, geometry)
        found.append((area_id, dict(properties or {}), count))
    return found


def _count_in(
    connection: Connection,
    counted: Source,
    conditions: list[ColumnElement[bool]],
    area: dict[str, Any],
) -> int:
    """On SQLite: the candidates in the area's box, points tested all at once (vectorised
    shapely), other geometries by ``ST_Within`` in SQL."""
    polygon = shapely.geometry.shape(area)
    shapely.prepare(polygon)
    min_x, min_y, max_x, max_y = polygon.bounds
    candidates = geo.box_candidates(counted, (min_x, min_y, max_x, max_y), "sqlite")
    is_point = func.json_extract(counted.c.geom, "$.type") == "Point"
    statement = select(
        case((is_point, func.json_extract(counted.c.geom, "$.coordinates[0]"))),
        case((is_point, func.json_extract(counted.c.geom, "$.coordinates[1]"))),
        case(
            (is_point, None),
            else_=func.ST_Within(
                counted.c.geom, sources.geometry_literal(orjson.dumps(area).decode())
            ),
        ),
    ).where(*conditions, *([] if candidates is None else [candidates]))
    xs, ys, others = [], [], 0
    for x, y, inside in connection.execute(statement):
        if x is not None:
            xs.append(x)
            ys.append(y)
        elif inside:
            others += 1
    if not xs:
        return others
    return others + int(shapely.contains_xy(polygon, numpy.array(xs), numpy.array(ys)).sum())


def _counts_in_one_statement(
    connection: Connection,
    counted: Source,
    conditions: list[ColumnElement[bool]],
    areas: Source,
) -> list[tuple[int, dict[str, Any], int]]:
    """On PostGIS: one statement, the GiST index joining features to areas."""
    area_geom = areas.c.geom
    tie = [counted.c.geom.op("&&")(area_geom), func.ST_Within(counted.c.geom, area_geom)]
    matched = (
        select(areas.c.id.label("area_id"), func.count().label("n"))
        .select_from(areas.table.join(counted.table, and_(*tie)))
        .where(*areas.base, *conditions)
        .group_by(areas.c.id)
        .subquery("matched")
    )
    statement = (
        select(areas.c.id, areas.c.properties, func.coalesce(matched.c.n, 0))
        .select_from(areas.table.outerjoin(matched, matched.c.area_id == areas.c.id))
        .where(*areas.base)
        .order_by(areas.c.id)
    )
    return [(row[0], dict(row[1] or {}), int(row[2])) for row in connection.execute(statement)]


def named_geometry(
    connection: Connection, slug: str, reference: str | int, hidden: Hidden
) -> dict[str, Any] | None:
    """The GeoJSON geometry of the current feature of collection ``slug`` whose key is
    ``reference`` (text) or whose id it is (a number); None if there is none the reader may
    see — a hidden collection, a gone or missing feature are alike."""
    collection = sources.find_collection(connection, slug, hidden)
    if collection is None:
        return None
    source = sources.source(collection, hidden)
    if isinstance(reference, int):
        found = geometry_of(connection, source, reference)
        return None if found is False else found
    if collection.is_sensors:
        return None  # Things have no keys
    row = connection.execute(
        select(source.c.geom).where(*source.base, source.c.key == reference)
    ).first()
    return None if row is None or row[0] is None else orjson.loads(row[0])
