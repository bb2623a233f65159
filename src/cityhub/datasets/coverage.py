"""Where and when a dataset's content lies: its spatial and temporal coverage, derived from
what it holds, never typed in. Its features (current ones) and its Things' Locations give
the bounding box; the features' times and its Datastreams' phenomenon times the period.

Each part is one aggregate over an index: the geometry indexes' boxes (the R*Trees on
SQLite, ``ST_Extent`` on PostGIS) and the time span every Datastream keeps of its
Observations, so no Observation is read. The box still visits every feature (a quarter of a
second for 200,000 on SQLite), so a page asks ``Coverages``, which keeps each dataset's
coverage until its collections are written again, for a few minutes at most.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, column, func, select, table

from cityhub.geometry import Box, enclosing_box
from cityhub.store import schema
from cityhub.store.dialects import sqlite_geometry_index

#: Decimal places of a box (about ten metres): the R*Tree keeps 32-bit floats, a hair wider
#: than the geometry; rounded, both backends tell the same box.
PLACES = 4

_features = schema.features
_collections = schema.collections
_things = schema.things


@dataclass(frozen=True)
class Coverage:
    bbox: Box | None = None
    start: datetime | None = None
    end: datetime | None = None


class Coverages:
    """Coverage by dataset, reused while none of its collections is written (the write path
    stamps ``collections.modified_at``) and for ``seconds`` at most (Things move and
    Observations arrive without that stamp)."""

    def __init__(self, seconds: float = 300.0) -> None:
        self.seconds = seconds
        self._kept: dict[int, tuple[float, Any, Coverage]] = {}

    def get(self, connection: Connection, dataset_id: int) -> Coverage:
        version = connection.scalar(
            select(func.max(_collections.c.modified_at)).where(
                _collections.c.dataset_id == dataset_id
            )
        )
        now = time.monotonic()
        kept = self._kept.get(dataset_id)
        if kept is not None and kept[1] == version and now - kept[0] < self.seconds:
            return kept[2]
        found = coverage(connection, dataset_id)
        if len(self._kept) > 1000:
            self._kept.clear()
        self._kept[dataset_id] = (now, version, found)
        return found


def coverage(connection: Connection, dataset_id: int) -> Coverage:
    """The dataset's bounding box and time span; None where it holds nothing to tell."""
    backend = connection.dialect.name
    features = select(_features.c.id).join(_collections).where(*_current_features(dataset_id))
    locations = (
        select(schema.thing_locations.c.location_id)
        .join(_things)
        .where(_things.c.dataset_id == dataset_id)
    )
    boxes = [
        _box(connection, schema.features, features, backend),
        _box(connection, schema.locations, locations, backend),
    ]
    spans = [_span(connection, statement) for statement in _time_statements(dataset_id)]
    return Coverage(
        enclosing_box(b for b in boxes if b is not None),
        min((s for s, _ in spans if s is not None), default=None),
        max((e for _, e in spans if e is not None), default=None),
    )


def _current_features(dataset_id: int) -> list[Any]:
    return [_collections.c.dataset_id == dataset_id, _features.c.gone_at.is_(None)]


def _box(connection: Connection, geometries: Any, ids: Select[Any], backend: str) -> Box | None:
    """The box around the geometries of ``geometries`` whose id is one of ``ids``."""
    if backend == "postgresql":
        extent = func.ST_Extent(geometries.c.geom)
        bounds = [func.ST_XMin(extent), func.ST_YMin(extent)]
        bounds += [func.ST_XMax(extent), func.ST_YMax(extent)]
        statement = select(*bounds).where(geometries.c.id.in_(ids))
    else:
        names = ("id", "minx", "maxx", "miny", "maxy")
        index = table(sqlite_geometry_index(geometries.name)[0], *(column(n) for n in names))
        bounds = [func.min(index.c.minx), func.min(index.c.miny)]
        bounds += [func.max(index.c.maxx), func.max(index.c.maxy)]
        statement = select(*bounds).where(index.c.id.in_(ids))
    row = connection.execute(statement).one()
    if row[0] is None:
        return None
    west, south, east, north = (round(float(value), PLACES) for value in row)
    return west, south, east, north


def _time_statements(dataset_id: int) -> list[Select[Any]]:
    """First and last instant of the features, the Datastreams and the MultiDatastreams."""
    statements = [
        select(
            func.min(_features.c.time_start),
            func.max(func.coalesce(_features.c.time_end, _features.c.time_start)),
        )
        .join(_collections)
        .where(*_current_features(dataset_id))
    ]
    for streams in (schema.datastreams, schema.multi_datastreams):
        start, end = streams.c.phenomenon_time_start, streams.c.phenomenon_time_end
        statements.append(
            select(func.min(start), func.max(func.coalesce(end, start)))
            .join(_things, _things.c.id == streams.c.thing_id)
            .where(_things.c.dataset_id == dataset_id)
        )
    return statements


def _span(connection: Connection, statement: Select[Any]) -> tuple[Any, Any]:
    row = connection.execute(statement).one()
    return row[0], row[1]
