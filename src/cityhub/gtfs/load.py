"""Replacing a feed's timetable in the store: one transaction, bulk loads, nothing half done.

The old timetable's rows are deleted and the new one's loaded in the caller's transaction,
so readers see the old timetable until the commit and the new one after it. Trips are read
first (each stop time carries its trip's service), stop times are loaded in chunks as they
are read, then the trips with the sequence of their last stop and the stops with their
count of departures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Index, Table, delete, insert, select, update

from cityhub.gtfs.feed import FeedError, FeedZip, parse_date, required
from cityhub.store import schema
from cityhub.store.bulk import BulkLoader

CHUNK = 50_000
TIMETABLE = (
    schema.gtfs_agencies,
    schema.gtfs_stops,
    schema.gtfs_routes,
    schema.gtfs_trips,
    schema.gtfs_stop_times,
    schema.gtfs_calendar,
    schema.gtfs_calendar_dates,
)


@dataclass(frozen=True, slots=True)
class Stop:
    stop_id: str
    name: str | None
    code: str | None
    lat: float | None
    lon: float | None
    location_type: int
    parent_station: str | None
    platform_code: str | None
    departures: int = 0


@dataclass(slots=True)
class Loaded:
    """What a load put in: the feed's id and time zone, its stops, counts per file."""

    feed_id: int
    timezone: str
    stops: list[Stop] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FeedSource:
    name: str
    dataset_id: int
    source: str
    digest: str


def feed_row(connection: Connection, name: str) -> dict[str, Any] | None:
    table = schema.gtfs_feeds
    row = connection.execute(select(table).where(table.c.name == name)).mappings().first()
    return None if row is None else dict(row)


def mark_checked(connection: Connection, feed_id: int, now: datetime) -> None:
    table = schema.gtfs_feeds
    connection.execute(update(table).where(table.c.id == feed_id).values(checked_at=now))


def load_feed(connection: Connection, source: FeedSource, feed: FeedZip, now: datetime) -> Loaded:
    """Replace the timetable of ``source.name`` with ``feed``'s, in the caller's transaction."""
    timezone = feed.timezone()
    feed_id = _feed_id(connection, source, timezone, now)
    rebuilt = _rebuilt_indexes(connection)
    for index in rebuilt:
        index.drop(connection)
    for table in TIMETABLE:
        connection.execute(delete(table).where(table.c.feed_id == feed_id))
    loaded = Loaded(feed_id, timezone)
    bulk = BulkLoader(connection)
    counts = loaded.counts
    counts["agencies"] = _load(bulk, schema.gtfs_agencies, _agencies(feed, feed_id))
    counts["routes"] = _load(bulk, schema.gtfs_routes, _routes(feed, feed_id))
    counts["calendar"] = _load(bulk, schema.gtfs_calendar, _calendar(feed, feed_id))
    counts["calendar_dates"] = _load(
        bulk, schema.gtfs_calendar_dates, _calendar_dates(feed, feed_id)
    )
    trips = list(_trips(feed, feed_id))
    times = _StopTimes(feed_id, {trip[1]: trip[3] for trip in trips})
    counts["stop_times"] = _load(bulk, schema.gtfs_stop_times, times.rows(feed))
    counts["stop_times_without_trip"] = times.orphans
    for index in rebuilt:
        index.create(connection)
    if connection.dialect.name == "postgresql":  # plans for the new rows, not for none
        for table in TIMETABLE:
            connection.exec_driver_sql(f'ANALYZE "{table.name}"')
    counts["trips"] = _load(
        bulk, schema.gtfs_trips, ((*trip, times.last.get(trip[1], 0)) for trip in trips)
    )
    loaded.stops = [replace(s, departures=times.boarding[s.stop_id]) for s in _stops(feed)]
    counts["stops"] = _load(bulk, schema.gtfs_stops, ((feed_id, *astuple(s)) for s in loaded.stops))
    table = schema.gtfs_feeds
    connection.execute(update(table).where(table.c.id == feed_id).values(counts=loaded.counts))
    return loaded


def _rebuilt_indexes(connection: Connection) -> list[Index]:
    """The stop times' indexes, on SQLite: building them after the load takes half the time
    of keeping them up to date row by row. Readers do not notice: until the commit they read
    the old timetable, indexes and all. PostgreSQL keeps them (dropping one would lock the
    table against readers)."""
    if connection.dialect.name != "sqlite":
        return []
    return sorted(schema.gtfs_stop_times.indexes, key=lambda index: str(index.name))


def _feed_id(connection: Connection, source: FeedSource, timezone: str, now: datetime) -> int:
    table = schema.gtfs_feeds
    values = {
        "dataset_id": source.dataset_id,
        "source": source.source,
        "digest": source.digest,
        "timezone": timezone,
        "loaded_at": now,
        "checked_at": now,
    }
    found = feed_row(connection, source.name)
    if found is not None:
        connection.execute(update(table).where(table.c.id == found["id"]).values(**values))
        return int(found["id"])
    return int(
        connection.execute(
            insert(table).values(name=source.name, **values).returning(table.c.id)
        ).scalar_one()
    )


def _load(bulk: BulkLoader, table: Table, rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (all of ``table``'s columns, in order) in chunks; how many."""
    columns = [column.name for column in table.columns]
    iterator, total = iter(rows), 0
    while chunk := list(islice(iterator, CHUNK)):
        bulk.load(table, columns, chunk)
        total += len(chunk)
    return total


def _rows(feed: FeedZip, name: str, columns: dict[str, object]) -> Iterator[list[str]]:
    """The rows of ``name``; a value that cannot be read names its file and line."""
    for line, values in feed.rows(name, columns):
        yield [value.strip() if isinstance(value, str) else value for value in values] + [line]


def _agencies(feed: FeedZip, feed_id: int) -> Iterator[tuple[Any, ...]]:
    columns = {"agency_id": "", **required("agency_name", "agency_timezone"), "agency_url": ""}
    for agency_id, name, zone, url, _line in _rows(feed, "agency.txt", columns):
        yield feed_id, agency_id, name, url or None, zone


def _stops(feed: FeedZip) -> Iterator[Stop]:
    columns = {
        **required("stop_id"),
        "stop_name": "",
        "stop_code": "",
        "stop_lat": "",
        "stop_lon": "",
        "location_type": "",
        "parent_station": "",
        "platform_code": "",
    }
    for stop_id, name, code, lat, lon, kind, parent, platform, line in _rows(
        feed, "stops.txt", columns
    ):
        try:
            yield Stop(
                stop_id,
                name or None,
                code or None,
                float(lat) if lat else None,
                float(lon) if lon else None,
                int(kind) if kind else 0,
                parent or None,
                platform or None,
            )
        except ValueError as exc:
            raise FeedError(f"stops.txt line {line}: {exc}") from None


def _routes(feed: FeedZip, feed_id: int) -> Iterator[tuple[Any, ...]]:
    columns = {
        **required("route_id", "route_type"),
        "agency_id": "",
        "route_short_name": "",
        "route_long_name": "",
        "route_color": "",
    }
    for route_id, kind, agency, short, long, color, line in _rows(feed, "routes.txt", columns):
        try:
            route_type = int(kind)
        except ValueError:
            message = f"routes.txt line {line}: route_type '{kind}' is not a number"
            raise FeedError(message) from None
        yield (
            feed_id,
            route_id,
            agency or None,
            short or None,
            long or None,
            route_type,
            color or None,
        )


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _calendar(feed: FeedZip, feed_id: int) -> Iterator[tuple[Any, ...]]:
    columns = required("service_id", *_WEEKDAYS, "start_date", "end_date")
    for service_id, *days, start, end, line in _rows(feed, "calendar.txt", columns):
        try:
            yield feed_id, service_id, "".join(days), parse_date(start), parse_date(end)
        except ValueError as exc:
            raise FeedError(f"calendar.txt line {line}: {exc}") from None


def _calendar_dates(feed: FeedZip, feed_id: int) -> Iterator[tuple[Any, ...]]:
    columns = required("service_id", "date", "exception_type")
    for service_id, day, kind, line in _rows(feed, "calendar_dates.txt", columns):
        if kind not in ("1", "2"):
            raise FeedError(f"calendar_dates.txt line {line}: exception_type must be 1 or 2")
        try:
            yield feed_id, service_id, parse_date(day), int(kind)
        except ValueError as exc:
            raise FeedError(f"calendar_dates.txt line {line}: {exc}") from None


class _StopTimes:
    """Rows of stop_times.txt, each with its trip's service and whether passengers board;
    learns each trip's last stop_sequence and each stop's count of boarding stop times."""

    def __init__(self, feed_id: int, services: dict[str, str]) -> None:
        self.feed_id = feed_id
        self.services = services
        self.last: dict[str, int] = {}
        self.boarding: Counter[str] = Counter()
        self.orphans = 0

    def rows(self, feed: FeedZip) -> Iterator[tuple[Any, ...]]:
        feed_id, services, last, boarding = self.feed_id, self.services, self.last, self.boarding
        for trip in feed.stop_times():
            trip_id = trip[0].trip_id
            service = services.get(trip_id)
            if service is None:  # not in trips.txt: no service day, never shown
                self.orphans += len(trip)
                continue
            final = trip[-1].stop_sequence
            last[trip_id] = max(last.get(trip_id, final), final)
            for stop in trip[:-1]:
                boards = stop.pickup_type != 1
                boarding[stop.stop_id] += boards
                yield (feed_id, *stop[:-1], int(boards), service)
            yield (feed_id, *trip[-1][:-1], 0, service)


def _trips(feed: FeedZip, feed_id: int) -> Iterator[tuple[Any, ...]]:
    """The trips, without their last stop_sequence (known once the stop times are read)."""
    columns = {
        **required("route_id", "service_id", "trip_id"),
        "trip_headsign": "",
        "trip_short_name": "",
        "direction_id": "",
    }
    for route_id, service_id, trip_id, headsign, short, direction, line in _rows(
        feed, "trips.txt", columns
    ):
        if direction not in ("", "0", "1"):
            raise FeedError(f"trips.txt line {line}: direction_id must be 0 or 1")
        yield (
            feed_id,
            trip_id,
            route_id,
            service_id,
            headsign or None,
            short or None,
            int(direction) if direction else None,
        )
