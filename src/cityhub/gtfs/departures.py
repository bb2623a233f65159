"""Departures from a stop: two statements, the stop and then its next departures.

The first finds the stop, the platforms of a station, and the feed (its time zone), in
feeds the reader may see. The second takes, for each of the service days around the asked
instant, the stop's departures in order from the departures index, which also holds each
stop time's service, so that only departures whose service runs that day (calendar and
calendar_dates) are read further; for the first few it joins trip, route and what the
realtime feed says: a trip cancelled, a stop skipped, a delay. A delay carries on to the
following stops of the trip until the next update (as GTFS-Realtime prescribes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
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
    statement = _stop_statement(reader.everything, bool(reader.datasets), feed is not None)
    params: dict[str, Any] = {"stop": stop_id, "feed": feed, "readable": sorted(reader.datasets)}
    rows = [dict(row) for row in connection.execute(statement, params).mappings()]
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


@cache
def _stop_statement(everything: bool, readable: bool, in_feed: bool) -> Select[Any]:
    """The stop and its platforms, in feeds visible to a reader that may read everything,
    or the restricted datasets in the parameter ``readable``, or only public ones."""
    stop = bindparam("stop", type_=Text)
    statement = (
        select(
            _feeds.c.id.label("feed_id"),
            _feeds.c.name.label("feed"),
            _feeds.c.timezone,
            _feeds.c.realtime_timestamp,
            *_stops.c["stop_id", "name", "code", "lat", "lon", "location_type", "parent_station"],
            _stops.c.platform_code,
            _stops.c.departures,
        )
        .join(_feeds, _feeds.c.id == _stops.c.feed_id)
        .where(or_(_stops.c.stop_id == stop, _stops.c.parent_station == stop))
    )
    if not everything:
        statement = statement.where(_visible(_feeds.c.dataset_id, readable))
    if in_feed:
        statement = statement.where(_feeds.c.name == bindparam("feed", type_=Text))
    return statement


def _visible(dataset_id: ColumnElement[Any], readable: bool) -> ColumnElement[bool]:
    """The access rule of ``store.access`` inside the statement: not in a restricted
    dataset, unless it is one of those in the parameter ``readable``."""
    datasets = schema.datasets
    hidden = select(datasets.c.id).where(datasets.c.visibility == RESTRICTED)
    if readable:
        hidden = hidden.where(datasets.c.id.not_in(bindparam("readable", expanding=True)))
    return dataset_id.not_in(hidden)


def next_departures(
    connection: Connection, scope: StopScope, at: datetime, limit: int
) -> list[dict[str, Any]]:
    """The next ``limit`` departures from ``scope`` at ``at`` (scheduled, or estimated for
    those scheduled up to ``LOOKBACK`` earlier), as the API shows them.

    The look-ahead is sized by the stop's count of departures, so a busy station reads an
    hour of its index, not a day; only if that holds too few does a second statement look
    ``HORIZON`` ahead.
    """
    if not scope.platforms:
        return []
    horizon = look_ahead(sum(p["departures"] for p in scope.platforms.values()), limit)
    rows = _departures(connection, scope, at, limit, horizon)
    if len(rows) < limit and horizon < HORIZON:
        rows = _departures(connection, scope, at, limit, HORIZON)
    return [_departure(row, scope) for row in rows]


def look_ahead(departures: int, limit: int) -> int:
    """Seconds ahead that likely hold ``limit`` departures of a stop with ``departures`` in
    its timetable: taken as spread over a day of one of three services (working days,
    Saturdays, Sundays), then doubled; at least an hour, at most ``HORIZON``."""
    per_hour = departures / 3 / 24
    if per_hour <= 0:
        return HORIZON
    return int(min(HORIZON, max(3_600, 2 * 3_600 * limit / per_hour)))


def _departures(
    connection: Connection, scope: StopScope, at: datetime, limit: int, horizon: int
) -> list[Any]:
    moment = int(at.timestamp())
    params: dict[str, Any] = {"feed": scope.feed_id, "stops": sorted(scope.platforms)}
    for index, day in enumerate(service_days_around(at, scope.timezone)):
        base = service_day_start(day, scope.timezone)
        params |= {
            f"base{index}": base,
            f"day{index}": day_number(day),
            f"weekday{index}": day.weekday() + 1,
            f"from{index}": moment - base,
            f"until{index}": moment - base + horizon,
        }
    params["limit"] = limit
    return list(connection.execute(_statement(), params).mappings())


@cache
def _statement() -> Select[Any]:
    """The departures statement, built once: its values are all parameters (see
    ``_departures``), so it is compiled once per database too."""
    feed = bindparam("feed", type_=Integer)
    branches = [_day_branch(feed, index) for index in range(3)]
    candidates = (
        union_all(*branches)
        .order_by("epoch", "trip_id")
        .limit(bindparam("limit", type_=Integer))
        .subquery()
    )
    return _with_details(feed, candidates)


def _day_branch(feed: Any, index: int) -> Select[Any]:
    """Departures of one service day (the ``index``-th around the instant) from ``from``
    (or up to ``LOOKBACK`` before, if delayed past it) to ``until``, straight from the
    departures index (its rows are where passengers board; ``boards`` is written out so
    that both databases see that the partial index applies)."""
    day = bindparam(f"day{index}", type_=Integer)
    start = bindparam(f"from{index}", type_=Integer)
    delay = _delay(feed, _st.c.trip_id, _st.c.stop_sequence, day)
    return select(
        day.label("service_date"),
        (_st.c.departure + bindparam(f"base{index}", type_=Integer)).label("epoch"),
        _st.c.trip_id,
        _st.c.stop_sequence,
        _st.c.stop_id,
        _st.c.headsign.label("stop_headsign"),
    ).where(
        _st.c.feed_id == feed,
        _st.c.stop_id.in_(bindparam("stops", expanding=True)),
        _st.c.departure >= start - LOOKBACK,
        _st.c.departure < bindparam(f"until{index}", type_=Integer),
        _st.c.boards == literal_column("1"),
        _st.c.service_id.in_(_services(feed, day, bindparam(f"weekday{index}", type_=Integer))),
        or_(_st.c.departure >= start, _st.c.departure + delay >= start),
    )


def _services(feed: Any, day: Any, weekday: Any) -> Select[Any]:
    """The services running on ``day``: by the calendar unless removed that day, or added.
    ``weekday`` is the day's place in the calendar's weekdays text, Monday 1."""
    calendar, dates = schema.gtfs_calendar, schema.gtfs_calendar_dates
    removed = select(dates.c.service_id).where(
        dates.c.feed_id == feed, dates.c.date == day, dates.c.exception_type == 2
    )
    regular = select(calendar.c.service_id).where(
        calendar.c.feed_id == feed,
        calendar.c.start_date <= day,
        calendar.c.end_date >= day,
        func.substr(calendar.c.weekdays, weekday, 1) == "1",
        calendar.c.service_id.not_in(removed),
    )
    added = select(dates.c.service_id).where(
        dates.c.feed_id == feed, dates.c.date == day, dates.c.exception_type == 1
    )
    return union(regular, added)


def _on_day(start_date: ColumnElement[Any], service_date: ColumnElement[Any]) -> Any:
    return or_(start_date.is_(None), start_date == service_date)


def _stop_delay(feed: Any, trip_id: Any, sequence: Any, service_date: Any) -> Any:
    """The delay of the latest realtime update at or before this stop of the trip."""
    return (
        select(_rt_stops.c.delay)
        .where(
            _rt_stops.c.feed_id == feed,
            _rt_stops.c.trip_id == trip_id,
            _rt_stops.c.stop_sequence <= sequence,
            _rt_stops.c.skipped == 0,
            _on_day(_rt_stops.c.start_date, service_date),
        )
        .order_by(_rt_stops.c.stop_sequence.desc())
        .limit(1)
        .scalar_subquery()
    )


def _trip_delay(feed: Any, trip_id: Any, service_date: Any) -> Any:
    return (
        select(_rt_trips.c.delay)
        .where(
            _rt_trips.c.feed_id == feed,
            _rt_trips.c.trip_id == trip_id,
            _on_day(_rt_trips.c.start_date, service_date),
        )
        .limit(1)
        .scalar_subquery()
    )


def _delay(feed: Any, trip_id: Any, sequence: Any, service_date: Any) -> Any:
    return func.coalesce(
        _stop_delay(feed, trip_id, sequence, service_date),
        _trip_delay(feed, trip_id, service_date),
    )


def _with_details(feed: Any, candidates: Any) -> Select[Any]:
    c = candidates.c
    cancelled = exists().where(
        _rt_trips.c.feed_id == feed,
        _rt_trips.c.trip_id == c.trip_id,
        _rt_trips.c.cancelled == 1,
        _on_day(_rt_trips.c.start_date, c.service_date),
    )
    skipped = exists().where(
        _rt_stops.c.feed_id == feed,
        _rt_stops.c.trip_id == c.trip_id,
        _rt_stops.c.stop_sequence == c.stop_sequence,
        _rt_stops.c.skipped == 1,
        _on_day(_rt_stops.c.start_date, c.service_date),
    )
    trip = and_(_trips.c.feed_id == feed, _trips.c.trip_id == c.trip_id)
    route = and_(_routes.c.feed_id == feed, _routes.c.route_id == _trips.c.route_id)
    return (
        select(
            candidates,
            _trips.c.route_id,
            _trips.c.headsign,
            _trips.c.short_name.label("trip_short_name"),
            _routes.c.short_name.label("route_short_name"),
            _routes.c.long_name.label("route_long_name"),
            _routes.c.route_type,
            _routes.c.color.label("route_color"),
            _delay(feed, c.trip_id, c.stop_sequence, c.service_date).label("delay"),
            cancelled.label("cancelled"),
            skipped.label("skipped"),
        )
        .select_from(candidates.join(_trips, trip).outerjoin(_routes, route))
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
