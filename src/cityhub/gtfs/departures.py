"""Departures from a stop: two statements, the stop and then its next departures.

The first finds the stop, the platforms of a station, and the feed (its time zone), in
feeds the reader may see. The second takes, for each of the service days around the asked
instant, the stop's departures in order from the departures index, keeps the trips whose
service runs that day (calendar and calendar_dates), and joins what the realtime feed
says about each: a trip cancelled, a stop skipped, a delay. A delay carries on to the
following stops of the trip until the next update (as GTFS-Realtime prescribes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union,
    union_all,
)

from cityhub.gtfs.clock import (
    day_number,
    from_day_number,
    local_time,
    service_day_start,
    service_days_around,
)
from cityhub.store import schema
from cityhub.store.access import RESTRICTED, Reader

#: How far ahead departures are looked for, in seconds.
HORIZON = 86_400
#: How long before the asked instant a delayed departure may have been scheduled.
LOOKBACK = 1_800

_feeds, _stops = schema.gtfs_feeds, schema.gtfs_stops
_st, _trips, _routes = schema.gtfs_stop_times, schema.gtfs_trips, schema.gtfs_routes
_rt_trips, _rt_stops = schema.gtfs_rt_trips, schema.gtfs_rt_stops


@dataclass(frozen=True, slots=True)
class StopScope:
    """A stop asked for, in its feed, with the stops departures leave from."""

    feed_id: int
    feed: str
    timezone: ZoneInfo
    stop: dict[str, Any]
    platforms: dict[str, dict[str, Any]]
    realtime_timestamp: datetime | None


def find_stops(
    connection: Connection, stop_id: str, reader: Reader, feed: str | None = None
) -> list[StopScope]:
    """The stop ``stop_id`` in each visible feed (normally one), with its platforms."""
    statement = (
        select(
            _feeds.c.id.label("feed_id"),
            _feeds.c.name.label("feed"),
            _feeds.c.timezone,
            _feeds.c.realtime_timestamp,
            *_stops.c["stop_id", "name", "code", "lat", "lon", "location_type", "parent_station"],
            _stops.c.platform_code,
        )
        .join(_feeds, _feeds.c.id == _stops.c.feed_id)
        .where(or_(_stops.c.stop_id == stop_id, _stops.c.parent_station == stop_id))
        .where(_visible(_feeds.c.dataset_id, reader))
    )
    if feed is not None:
        statement = statement.where(_feeds.c.name == feed)
    rows = [dict(row) for row in connection.execute(statement).mappings()]
    scopes = []
    for row in rows:
        if row["stop_id"] != stop_id:
            continue
        children = [r for r in rows if r["feed_id"] == row["feed_id"] and r is not row]
        platforms = {r["stop_id"]: r for r in [row, *children] if r["location_type"] == 0}
        scopes.append(
            StopScope(
                row["feed_id"],
                row["feed"],
                ZoneInfo(row["timezone"]),
                row,
                platforms,
                row["realtime_timestamp"],
            )
        )
    return scopes


def _visible(dataset_id: ColumnElement[Any], reader: Reader) -> ColumnElement[bool]:
    """The access rule of ``store.access`` inside the statement: not a restricted dataset,
    unless ``reader`` may read it."""
    if reader.everything:
        return true()
    datasets = schema.datasets
    hidden = select(datasets.c.id).where(datasets.c.visibility == RESTRICTED)
    if reader.datasets:
        hidden = hidden.where(datasets.c.id.not_in(sorted(reader.datasets)))
    return dataset_id.not_in(hidden)


def next_departures(
    connection: Connection, scope: StopScope, at: datetime, limit: int
) -> list[dict[str, Any]]:
    """The next ``limit`` departures from ``scope`` at ``at`` (scheduled, or estimated for
    those scheduled up to ``LOOKBACK`` earlier), as the API shows them."""
    if not scope.platforms:
        return []
    moment = int(at.timestamp())
    days = service_days_around(at, scope.timezone)
    branches = [_day_branch(scope, day, moment) for day in days]
    candidates = union_all(*branches).order_by("epoch", "trip_id").limit(limit).subquery()
    statement = _with_details(scope.feed_id, candidates)
    rows = connection.execute(statement).mappings()
    return [_departure(row, scope) for row in rows]


def _day_branch(scope: StopScope, day: date, moment: int) -> Select[Any]:
    """Departures of one service day between ``moment`` and ``moment + HORIZON``."""
    base = service_day_start(day, scope.timezone)
    number = day_number(day)
    low = moment - base
    delay = _delay(scope.feed_id, _st.c.trip_id, _st.c.stop_sequence, literal(number, Integer))
    in_time = or_(_st.c.departure >= low, _st.c.departure + delay >= low)
    return (
        select(
            literal(number, Integer).label("service_date"),
            (_st.c.departure + literal(base, Integer)).label("epoch"),
            _st.c.trip_id,
            _st.c.stop_sequence,
            _st.c.stop_id,
            _st.c.headsign.label("stop_headsign"),
            _trips.c.route_id,
            _trips.c.headsign,
            _trips.c.short_name.label("trip_short_name"),
        )
        .select_from(
            _st.join(
                _trips, and_(_trips.c.feed_id == _st.c.feed_id, _trips.c.trip_id == _st.c.trip_id)
            )
        )
        .where(
            _st.c.feed_id == scope.feed_id,
            _st.c.stop_id.in_(sorted(scope.platforms)),
            _st.c.departure >= low - LOOKBACK,
            _st.c.departure < low + HORIZON,
            in_time,
            _st.c.pickup_type != 1,
            _st.c.stop_sequence < _trips.c.last_sequence,
            _trips.c.service_id.in_(_services(scope.feed_id, day)),
        )
    )


def _services(feed_id: int, day: date) -> Select[Any]:
    """The services running on ``day``: by the calendar unless removed that day, or added."""
    calendar, dates = schema.gtfs_calendar, schema.gtfs_calendar_dates
    number = day_number(day)
    removed = select(dates.c.service_id).where(
        dates.c.feed_id == feed_id, dates.c.date == number, dates.c.exception_type == 2
    )
    regular = select(calendar.c.service_id).where(
        calendar.c.feed_id == feed_id,
        calendar.c.start_date <= number,
        calendar.c.end_date >= number,
        func.substr(calendar.c.weekdays, day.weekday() + 1, 1) == "1",
        calendar.c.service_id.not_in(removed),
    )
    added = select(dates.c.service_id).where(
        dates.c.feed_id == feed_id, dates.c.date == number, dates.c.exception_type == 1
    )
    return union(regular, added)


def _on_day(start_date: ColumnElement[Any], service_date: ColumnElement[Any]) -> Any:
    return or_(start_date.is_(None), start_date == service_date)


def _stop_delay(feed_id: int, trip_id: Any, sequence: Any, service_date: Any) -> Any:
    """The delay of the latest realtime update at or before this stop of the trip."""
    return (
        select(_rt_stops.c.delay)
        .where(
            _rt_stops.c.feed_id == feed_id,
            _rt_stops.c.trip_id == trip_id,
            _rt_stops.c.stop_sequence <= sequence,
            _rt_stops.c.skipped == 0,
            _on_day(_rt_stops.c.start_date, service_date),
        )
        .order_by(_rt_stops.c.stop_sequence.desc())
        .limit(1)
        .scalar_subquery()
    )


def _trip_delay(feed_id: int, trip_id: Any, service_date: Any) -> Any:
    return (
        select(_rt_trips.c.delay)
        .where(
            _rt_trips.c.feed_id == feed_id,
            _rt_trips.c.trip_id == trip_id,
            _on_day(_rt_trips.c.start_date, service_date),
        )
        .limit(1)
        .scalar_subquery()
    )


def _delay(feed_id: int, trip_id: Any, sequence: Any, service_date: Any) -> Any:
    return func.coalesce(
        _stop_delay(feed_id, trip_id, sequence, service_date),
        _trip_delay(feed_id, trip_id, service_date),
    )


def _with_details(feed_id: int, candidates: Any) -> Select[Any]:
    c = candidates.c
    cancelled = exists().where(
        _rt_trips.c.feed_id == feed_id,
        _rt_trips.c.trip_id == c.trip_id,
        _rt_trips.c.cancelled == 1,
        _on_day(_rt_trips.c.start_date, c.service_date),
    )
    skipped = exists().where(
        _rt_stops.c.feed_id == feed_id,
        _rt_stops.c.trip_id == c.trip_id,
        _rt_stops.c.stop_sequence == c.stop_sequence,
        _rt_stops.c.skipped == 1,
        _on_day(_rt_stops.c.start_date, c.service_date),
    )
    route = and_(_routes.c.feed_id == feed_id, _routes.c.route_id == c.route_id)
    return (
        select(
            candidates,
            _routes.c.short_name.label("route_short_name"),
            _routes.c.long_name.label("route_long_name"),
            _routes.c.route_type,
            _routes.c.color.label("route_color"),
            _delay(feed_id, c.trip_id, c.stop_sequence, c.service_date).label("delay"),
            cancelled.label("cancelled"),
            skipped.label("skipped"),
        )
        .select_from(candidates.outerjoin(_routes, route))
        .order_by(c.epoch, c.trip_id)
    )


def _departure(row: Any, scope: StopScope) -> dict[str, Any]:
    zone = scope.timezone
    delay = row["delay"]
    cancelled, skipped = bool(row["cancelled"]), bool(row["skipped"])
    estimated = None
    if delay is not None and not cancelled and not skipped:
        estimated = local_time(row["epoch"] + delay, zone).isoformat()
    platform = scope.platforms.get(row["stop_id"], {})
    return {
        "scheduled": local_time(row["epoch"], zone).isoformat(),
        "estimated": estimated,
        "delay": delay,
        "realtime": delay is not None or cancelled or skipped,
        "cancelled": cancelled,
        "skipped": skipped,
        "route": row["route_short_name"] or row["route_long_name"],
        "route_id": row["route_id"],
        "route_type": row["route_type"],
        "route_color": row["route_color"],
        "headsign": row["stop_headsign"] or row["headsign"],
        "trip_id": row["trip_id"],
        "trip_short_name": row["trip_short_name"],
        "service_date": from_day_number(row["service_date"]).isoformat(),
        "stop_id": row["stop_id"],
        "platform": _platform(platform, scope.stop["stop_id"]),
    }


def _platform(stop: dict[str, Any], asked: str) -> str | None:
    """The platform_code; for a platform of the asked station without one, its name."""
    if stop.get("platform_code"):
        return str(stop["platform_code"])
    if stop.get("stop_id") != asked and stop.get("name"):
        return str(stop["name"])
    return None
