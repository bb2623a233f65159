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
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, column, func, null, select, table

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
    return coverages(connection, [dataset_id]).get(dataset_id, Coverage())


def coverages(connection: Connection, dataset_ids: list[int]) -> dict[int, Coverage]:
    """The coverage of each of ``dataset_ids`` that holds something, in four grouped
    statements whatever their number (a catalog of 1,000 datasets is not 4,000 queries)."""
    ids = sorted(set(dataset_ids))
    if not ids:
        return {}
    backend = connection.dialect.name
    found: dict[int, Coverage] = {}
    for statement in (
        _feature_parts(ids, backend),
        _stream_times(schema.datastreams, ids),
        _stream_times(schema.multi_datastreams, ids),
        _location_boxes(ids, backend),
    ):
        for dataset_id, start, end, *bounds in connection.execute(statement):
            box = None if bounds[0] is None else _rounded(bounds)
            found[dataset_id] = _widened(found.get(dataset_id, Coverage()), start, end, box)
    return found


def _widened(
    old: Coverage, start: datetime | None, end: datetime | None, box: Box | None
) -> Coverage:
    return Coverage(
        enclosing_box(b for b in (old.bbox, box) if b is not None),
        min((t for t in (old.start, start) if t is not None), default=None),
        max((t for t in (old.end, end) if t is not None), default=None),
    )


def _rounded(bounds: Any) -> Box:
    west, south, east, north = (round(float(value), PLACES) for value in bounds)
    return west, south, east, north


def _index(geometries: Any) -> Any:
    """SQLite's R*Tree of ``geometries.geom``: the boxes, aggregated without parsing."""
    return _index_named(geometries.name)


@cache
def _index_named(name: str) -> Any:
    names = ("id", "minx", "maxx", "miny", "maxy")
    return table(sqlite_geometry_index(name)[0], *(column(n) for n in names))


def _bounds(geometries: Any, backend: str) -> list[Any]:
    if backend == "postgresql":
        extent = func.ST_Extent(geometries.c.geom)
        return [
            func.ST_XMin(extent),
            func.ST_YMin(extent),
            func.ST_XMax(extent),
            func.ST_YMax(extent),
        ]
    index = _index(geometries)
    return [
        func.min(index.c.minx),
        func.min(index.c.miny),
        func.max(index.c.maxx),
        func.max(index.c.maxy),
    ]


def _with_index(joined: Any, geometries: Any, backend: str) -> Any:
    if backend == "postgresql":
        return joined
    index = _index(geometries)
    return joined.outerjoin(index, index.c.id == geometries.c.id)


def _feature_parts(ids: list[int], backend: str) -> Select[Any]:
    """Per dataset: the current features' first and last instant and their box."""
    joined = _with_index(
        _features.join(_collections, _collections.c.id == _features.c.collection_id),
        _features,
        backend,
    )
    return (
        select(
            _collections.c.dataset_id,
            func.min(_features.c.time_start),
            func.max(func.coalesce(_features.c.time_end, _features.c.time_start)),
            *_bounds(_features, backend),
        )
        .select_from(joined)
        .where(_collections.c.dataset_id.in_(ids), _features.c.gone_at.is_(None))
        .group_by(_collections.c.dataset_id)
    )


def _stream_times(streams: Any, ids: list[int]) -> Select[Any]:
    """Per dataset: the first and last phenomenon time its (Multi)Datastreams keep."""
    start, end = streams.c.phenomenon_time_start, streams.c.phenomenon_time_end
    return (
        select(
            _things.c.dataset_id,
            func.min(start),
            func.max(func.coalesce(end, start)),
            *(null() for _ in range(4)),
        )
        .select_from(streams.join(_things, _things.c.id == streams.c.thing_id))
        .where(_things.c.dataset_id.in_(ids))
        .group_by(_things.c.dataset_id)
    )


def _location_boxes(ids: list[int], backend: str) -> Select[Any]:
    """Per dataset: the box of its Things' Locations."""
    locations = schema.locations
    links = schema.thing_locations
    joined = _with_index(
        _things.join(links, links.c.thing_id == _things.c.id).join(
            locations, locations.c.id == links.c.location_id
        ),
        locations,
        backend,
    )
    return (
        select(_things.c.dataset_id, null(), null(), *_bounds(locations, backend))
        .select_from(joined)
        .where(_things.c.dataset_id.in_(ids))
        .group_by(_things.c.dataset_id)
    )
