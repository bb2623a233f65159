"""The time series of a Datastream page: which range, raw or aggregated, and its rows.

A range is the last day, week or month of a Datastream's data (ending at its latest
Observation, so a sensor that fell silent still shows its last data), or a custom span of
whole local days. Up to ``RAW_LIMIT`` Observations are shown as they are; more are summarised
server-side by the SensorThings aggregation into the shortest bucket of ``LADDER`` that
gives at most ``MAX_BUCKETS`` buckets. The chart reads the same figures from the public API
(``api_path``), the table beneath it shows them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from cityhub.errors import BadRequest
from cityhub.sensorthings.aggregate import (
    DATASTREAM,
    AggregateRequest,
    BucketStats,
    aggregate,
    render,
)
from cityhub.sensorthings.buckets import Grid, parse_interval
from cityhub.sensorthings.options import parse_query_options
from cityhub.sensorthings.serialize import result_value
from cityhub.store import schema
from cityhub.timeutil import format_instant

RANGES = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
CUSTOM = "custom"
RAW_LIMIT = 1000
MAX_BUCKETS = 500
#: Bucket lengths from short to long; calendar ones follow the local wall clock.
LADDER = ("PT5M", "PT15M", "PT1H", "PT3H", "PT6H", "P1D", "P1W", "P1M")
LONGEST_CUSTOM = timedelta(days=366 * 20)
FIGURES = ("avg", "min", "max", "count")

_observations = schema.observations


@dataclass(frozen=True)
class Span:
    name: str  # day, week, month or custom
    start: datetime
    end: datetime  # exclusive

    @property
    def last(self) -> datetime:
        """The last moment in the range (for the "to" day of a form)."""
        return self.end - timedelta(microseconds=1)


@dataclass(frozen=True)
class Series:
    span: Span
    interval: str | None  # None: raw Observations
    rows: list[dict[str, Any]]
    api_path: str


def parse_span(params: Any, latest: datetime | None, now: datetime, zone: ZoneInfo) -> Span:
    """The range a page asks for (``range``, and ``from``/``to`` for custom); 400 if bad."""
    name = params.get("range") or "day"
    if name in RANGES:
        end = min(latest, now) if latest else now
        end = end.replace(microsecond=0) + timedelta(seconds=1)
        return Span(name, end - RANGES[name], end)
    if name != CUSTOM:
        raise BadRequest(f"range must be one of day, week, month, custom, not '{name}'")
    first, last = _day(params, "from"), _day(params, "to")
    if last < first:
        raise BadRequest("the range ends (to) before it starts (from)")
    # In UTC: arithmetic on times of one zone would ignore the clock changes.
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    if end - start > LONGEST_CUSTOM:
        raise BadRequest("a custom range spans at most 20 years")
    return Span(CUSTOM, start, end)


#: The days a custom range may name: a day at the calendar's ends has no whole local day
#: (midnight in the city's zone, or the next one, lies outside what a datetime can hold).
_FIRST_DAY, _LAST_DAY = date.min + timedelta(days=1), date.max - timedelta(days=1)


def _day(params: Any, name: str) -> date:
    text = (params.get(name) or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-11-30, not '{text}'") from None
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise BadRequest(f"{name} must lie between {_FIRST_DAY} and {_LAST_DAY}, not '{text}'")
    return day


def read(
    connection: Connection, backend: str, datastream_id: int, span: Span, zone: ZoneInfo
) -> Series:
    """The rows of ``span``: Observations if few, else aggregated buckets."""
    in_range = (
        _observations.c.datastream_id == datastream_id,
        _observations.c.phenomenon_time_start >= span.start,
        _observations.c.phenomenon_time_start < span.end,
    )
    bounded = select(_observations.c.id).where(*in_range).limit(RAW_LIMIT + 1).subquery()
    if connection.scalar(select(func.count()).select_from(bounded)) <= RAW_LIMIT:
        return _raw(connection, datastream_id, span, in_range)
    interval, grid = _grid(span, zone)
    count = grid.count()
    request = AggregateRequest(grid, count, parse_query_options([]), FIGURES)
    stats = aggregate(connection, backend, DATASTREAM, datastream_id, request, 0, count)
    query = {
        "interval": interval,
        "phenomenonTime": f"{format_instant(span.start)}/{format_instant(span.end)}",
        "timeZone": str(zone),
        "$select": ",".join(FIGURES),
        "$top": str(count),
    }
    path = f"/v1.1/Datastreams({datastream_id})/Observations/$aggregate?{urlencode(query)}"
    return Series(span, interval, [_bucket(item) for item in stats], path)


def _raw(connection: Connection, datastream_id: int, span: Span, in_range: tuple) -> Series:
    statement = (
        select(
            _observations.c.phenomenon_time_start,
            _observations.c.result_type,
            _observations.c.result_number,
            _observations.c.result_string,
            _observations.c.result_json,
        )
        .where(*in_range)
        .order_by(_observations.c.phenomenon_time_start, _observations.c.id)
    )
    rows = [
        {"time": row["phenomenon_time_start"], "value": result_value(row)}
        for row in connection.execute(statement).mappings()
    ]
    start, end = format_instant(span.start), format_instant(span.end)
    query = {
        "$filter": f"phenomenonTime ge {start} and phenomenonTime lt {end}",
        "$orderby": "phenomenonTime asc",
        "$select": "phenomenonTime,result",
        "$top": str(RAW_LIMIT),
    }
    path = f"/v1.1/Datastreams({datastream_id})/Observations?{urlencode(query)}"
    return Series(span, None, rows, path)


def _grid(span: Span, zone: ZoneInfo) -> tuple[str, Grid]:
    for text in LADDER:
        grid = Grid(span.start, span.end, parse_interval(text), zone)
        if (span.end - span.start) / grid.interval.nominal <= MAX_BUCKETS:
            return text, grid
    return LADDER[-1], Grid(span.start, span.end, parse_interval(LADDER[-1]), zone)


def _bucket(stats: BucketStats) -> dict[str, Any]:
    row = render(stats, FIGURES, single=True)
    row["time"] = datetime.fromisoformat(stats.phenomenon_time.split("/")[0])
    return row
