"""GTFS-Realtime TripUpdates: the latest feed of each timetable, kept in the store.

Each fetch replaces the previous one in one transaction, so every API process sees the same
updates. What is kept: trips cancelled (CANCELED, or DELETED), a trip's own delay, and per
stop its delay or that it is skipped. An update that names its stop by stop_id only, or
gives a time instead of a delay, is resolved against the timetable here, once, so the
departures query only compares numbers. Vehicle positions and alerts are not read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as rt
from sqlalchemy import Connection, delete, select, update

from cityhub.gtfs.clock import from_day_number, service_day_start, service_days_around
from cityhub.gtfs.feed import FeedError, parse_date
from cityhub.store import schema
from cityhub.store.bulk import BulkLoader

_CANCELLED = {
    rt.TripDescriptor.CANCELED,
    getattr(rt.TripDescriptor, "DELETED", rt.TripDescriptor.CANCELED),
}
_SKIPPED = rt.TripUpdate.StopTimeUpdate.SKIPPED
_NO_DATA = rt.TripUpdate.StopTimeUpdate.NO_DATA
_CHUNK = 500


@dataclass(slots=True)
class StopUpdate:
    stop_sequence: int | None
    stop_id: str | None
    delay: int | None
    time: int | None
    departure: bool
    skipped: bool


@dataclass(slots=True)
class TripUpdate:
    trip_id: str
    start_date: int | None
    cancelled: bool
    delay: int | None
    stops: list[StopUpdate] = field(default_factory=list)


@dataclass(slots=True)
class RealtimeFeed:
    timestamp: datetime | None
    trips: list[TripUpdate]
    unusable: int = 0


def parse(content: bytes) -> RealtimeFeed:
    """The TripUpdates of a GTFS-Realtime FeedMessage; ``FeedError`` if it is not one."""
    message = rt.FeedMessage()
    try:
        message.ParseFromString(content)
    except DecodeError as exc:
        raise FeedError(f"not a GTFS-Realtime feed (protobuf): {exc}") from None
    if not message.header.gtfs_realtime_version:
        raise FeedError("not a GTFS-Realtime feed: the header has no gtfs_realtime_version")
    stamp = message.header.timestamp
    feed = RealtimeFeed(datetime.fromtimestamp(stamp, UTC) if stamp else None, [])
    for entity in message.entity:
        if entity.is_deleted or not entity.HasField("trip_update"):
            continue
        update_ = entity.trip_update
        if not update_.trip.trip_id:  # frequency trips by route and start time: not matched
            feed.unusable += 1
            continue
        feed.trips.append(_trip(update_))
    return feed


def _trip(update_: Any) -> TripUpdate:
    trip = update_.trip
    try:
        start = parse_date(trip.start_date) if trip.start_date else None
    except ValueError:
        start = None
    return TripUpdate(
        trip_id=trip.trip_id,
        start_date=start,
        cancelled=trip.schedule_relationship in _CANCELLED,
        delay=update_.delay if update_.HasField("delay") else None,
        stops=[_stop(s) for s in update_.stop_time_update],
    )


def _stop(update_: Any) -> StopUpdate:
    uses_departure = update_.HasField("departure")
    event = update_.departure if uses_departure else update_.arrival
    present = uses_departure or update_.HasField("arrival")
    no_data = update_.schedule_relationship == _NO_DATA
    delay = event.delay if present and event.HasField("delay") and not no_data else None
    time = event.time if present and event.HasField("time") and not no_data else None
    return StopUpdate(
        stop_sequence=update_.stop_sequence if update_.HasField("stop_sequence") else None,
        stop_id=update_.stop_id or None,
        delay=delay,
        time=time if delay is None else None,
        departure=uses_departure,
        skipped=update_.schedule_relationship == _SKIPPED,
    )


def save(
    connection: Connection,
    feed_id: int,
    zone: ZoneInfo,
    feed: RealtimeFeed,
    source: str,
    fetched_at: datetime,
) -> dict[str, int]:
    """Replace the kept updates of ``feed_id`` by ``feed``; counts of what was kept."""
    schedule = _schedule(connection, feed_id, _needing_schedule(feed.trips))
    trip_rows, stop_rows, unmatched = [], [], feed.unusable
    for trip in feed.trips:
        trip_rows.append((feed_id, trip.trip_id, trip.start_date, int(trip.cancelled), trip.delay))
        resolver = _Resolver(schedule.get(trip.trip_id, []), trip.start_date, zone, fetched_at)
        for stop in trip.stops:
            resolved = resolver.resolve(stop)
            if resolved is None:
                unmatched += 1
                continue
            sequence, delay = resolved
            stop_rows.append(
                (feed_id, trip.trip_id, trip.start_date, sequence, delay, int(stop.skipped))
            )
    for table in (schema.gtfs_rt_trips, schema.gtfs_rt_stops):
        connection.execute(delete(table).where(table.c.feed_id == feed_id))
    bulk = BulkLoader(connection)
    _load(bulk, schema.gtfs_rt_trips, trip_rows)
    _load(bulk, schema.gtfs_rt_stops, stop_rows)
    feeds = schema.gtfs_feeds
    connection.execute(
        update(feeds)
        .where(feeds.c.id == feed_id)
        .values(
            realtime_source=source,
            realtime_timestamp=feed.timestamp,
            realtime_fetched_at=fetched_at,
        )
    )
    cancelled = sum(1 for trip in feed.trips if trip.cancelled)
    skipped = sum(1 for row in stop_rows if row[5])
    return {
        "trip_updates": len(trip_rows),
        "stop_updates": len(stop_rows),
        "cancelled": cancelled,
        "skipped": skipped,
        "unmatched": unmatched,
    }


def _load(bulk: BulkLoader, table: Any, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        bulk.load(table, [c.name for c in table.columns], rows)


def _needing_schedule(trips: Iterable[TripUpdate]) -> list[str]:
    """Trips with an update named by stop_id only, or timed rather than delayed."""
    return sorted(
        {
            trip.trip_id
            for trip in trips
            for stop in trip.stops
            if stop.stop_sequence is None or stop.time is not None
        }
    )


def _schedule(
    connection: Connection, feed_id: int, trip_ids: list[str]
) -> dict[str, list[tuple[int, str, int, int]]]:
    """The stop times of ``trip_ids``: (stop_sequence, stop_id, arrival, departure) by trip."""
    table = schema.gtfs_stop_times
    found: dict[str, list[tuple[int, str, int, int]]] = defaultdict(list)
    for start in range(0, len(trip_ids), _CHUNK):
        statement = (
            select(
                table.c.trip_id,
                table.c.stop_sequence,
                table.c.stop_id,
                table.c.arrival,
                table.c.departure,
            )
            .where(table.c.feed_id == feed_id)
            .where(table.c.trip_id.in_(trip_ids[start : start + _CHUNK]))
            .order_by(table.c.trip_id, table.c.stop_sequence)
        )
        for trip_id, *stop_time in connection.execute(statement):
            found[trip_id].append(tuple(stop_time))  # type: ignore[arg-type]
    return found


class _Resolver:
    """Stop updates of one trip as (stop_sequence, delay), using the trip's timetable."""

    def __init__(
        self,
        stop_times: list[tuple[int, str, int, int]],
        start_date: int | None,
        zone: ZoneInfo,
        now: datetime,
    ) -> None:
        self.stop_times = stop_times
        self.zone = zone
        self.now = now
        self.start_date = start_date
        self.after = -1  # stop_id matches go forward: a trip may call at a stop twice

    def resolve(self, stop: StopUpdate) -> tuple[int, int | None] | None:
        sequence = stop.stop_sequence
        scheduled = None
        for number, stop_id, arrival, departure in self.stop_times:
            named = sequence == number if sequence is not None else stop_id == stop.stop_id
            if named and (sequence is not None or number > self.after):
                sequence = number
                scheduled = departure if stop.departure else arrival
                break
        if sequence is None:
            return None
        self.after = sequence
        if stop.time is None:
            return sequence, stop.delay
        if scheduled is None:
            return None
        return sequence, self._delay(stop.time, scheduled)

    def _delay(self, time: int, scheduled: int) -> int:
        """``time`` less the scheduled time on the trip's service day (when not given: the
        day around now that makes the difference smallest)."""
        if self.start_date is not None:
            days = [from_day_number(self.start_date)]
        else:
            days = service_days_around(self.now, self.zone)
        delays = [time - service_day_start(day, self.zone) - scheduled for day in days]
        return min(delays, key=abs)
