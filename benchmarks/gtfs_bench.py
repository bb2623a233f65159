"""A regional GTFS feed loaded through the connector, and departures for one stop.

    python benchmarks/gtfs_bench.py [--backend sqlite|postgresql|both] [--stops 6000]
        [--trips 25000] [--stops-per-trip 20] [--repeat 200]

The feed is generated (seeded): ``--stops`` stops, a quarter of them platforms of stations
and twelve platforms of a central station that one route in five passes; ``--trips`` trips
of ``--stops-per-trip`` stops each (500,000 stop times by default) on working days,
Saturdays and Sundays, with holidays in calendar_dates and trips running past midnight; and
a GTFS-Realtime feed with delays for 2,000 trips and 100 cancellations. Figures, each
backend on a fresh database, each beside a floor measured in the same run:

- load: a run of the connector on the zip (read, parse, replace the timetable in one
  transaction, stops written as features); floor: the bare bulk insert of the same stop
  times, already parsed, into the same table in one transaction;
- departures: the two statements of ``GET /departures`` for the next 10 departures, median
  over ``--repeat`` instants of a working day, for the central station (twelve platforms)
  and for an ordinary stop; floor: the plain SQL of the departures index, the stop's next
  10 stop times without calendar, trips, routes or realtime;
- HTTP: ``GET /departures`` against ``cityhub serve``, median latency of sequential
  requests; floor: ``GET /api/health`` (one ``SELECT 1``) on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from google.transit import gtfs_realtime_pb2 as rt
from harness import backends, hub_database, hub_env, report, running_hub
from sqlalchemy import text

from cityhub import datasets
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.service import ConnectorService
from cityhub.gtfs import realtime
from cityhub.gtfs.api import _answer
from cityhub.settings import Settings, load_settings
from cityhub.store import schema
from cityhub.store.access import ANYONE
from cityhub.store.bulk import BulkLoader
from cityhub.store.database import Store

ZONE = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 12, 3, tzinfo=ZONE)  # a Thursday
SERVICES = (("WD", "1111100", 0.6), ("SA", "0000010", 0.2), ("SU", "0000001", 0.2))
HOLIDAYS = ("20261225", "20261226", "20270101", "20270405", "20270501")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--stops", type=int, default=6000)
    parser.add_argument("--trips", type=int, default=25_000)
    parser.add_argument("--stops-per-trip", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cityhub-gtfs-bench-"))
    started = time.perf_counter()
    feed = generate(args)
    path = folder / "region.zip"
    path.write_bytes(feed.zip)
    print(
        f"generated {len(feed.stops):,} stops, {args.trips:,} trips, "
        f"{len(feed.stop_times):,} stop times ({path.stat().st_size / 1e6:.1f} MB zip) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for backend in backends(args.backend):
        run_backend(backend, args, feed, path)


# --- the feed --------------------------------------------------------------------------------


class Feed:
    def __init__(self) -> None:
        self.stops: list[tuple[str, str, float, float, str, str, str]] = []
        self.stop_times: list[tuple[str, int, str, int, int]] = []
        self.trips: list[tuple[str, str, str, str]] = []
        self.zip = b""
        self.central: list[str] = []
        self.ordinary = ""


def generate(args: argparse.Namespace) -> Feed:
    chance = random.Random(42)
    feed = Feed()
    feed.stops.append(("HBF", "Hauptbahnhof", 51.43, 7.66, "1", "", ""))
    for number in range(1, 13):
        feed.stops.append((f"HBF:{number}", "Hauptbahnhof", 51.43, 7.66, "0", "HBF", str(number)))
        feed.central.append(f"HBF:{number}")
    stations = args.stops // 12
    boarding = list(feed.central)
    for station in range(stations):
        lat, lon = 51 + chance.random(), 7 + chance.random()
        feed.stops.append((f"ST{station}", f"Bahnhof {station}", lat, lon, "1", "", ""))
        for platform in (1, 2):
            stop_id = f"ST{station}:{platform}"
            feed.stops.append((stop_id, f"Bahnhof {station}", lat, lon, "0", f"ST{station}", ""))
            boarding.append(stop_id)
    while len(feed.stops) < args.stops:
        number = len(feed.stops)
        lat, lon = 51 + chance.random(), 7 + chance.random()
        feed.stops.append((f"S{number}", f"Haltestelle {number}", lat, lon, "0", "", ""))
        boarding.append(f"S{number}")
    ordinary = boarding[len(feed.central) :]
    routes = max(1, args.trips // 84)
    lines = [_line(chance, ordinary, feed.central, r, args.stops_per_trip) for r in range(routes)]
    for number in range(args.trips):
        route = number % routes
        service = chance.choices([s[0] for s in SERVICES], [s[2] for s in SERVICES])[0]
        trip_id = f"T{number}"
        stops = lines[route] if number % 2 else lines[route][::-1]
        start = chance.randrange(4 * 3600, 24 * 3600 + 1800, 60)
        feed.trips.append((f"R{route}", service, trip_id, f"Ziel {stops[-1]}"))
        for sequence, stop_id in enumerate(stops, start=1):
            at = start + (sequence - 1) * 120
            feed.stop_times.append((trip_id, sequence, stop_id, at, at))
    feed.ordinary = max(ordinary[:50], key=lambda s: sum(s in line for line in lines))
    feed.zip = _zipped(feed, routes)
    return feed


def _line(chance: random.Random, ordinary: list[str], central: list[str], number: int, size: int):
    stops = chance.sample(ordinary, size)
    if number % 5 == 0:
        stops[size // 2] = central[number % len(central)]
    return stops


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _zipped(feed: Feed, routes: int) -> bytes:
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
        "VRX,Verkehrsverbund Region X,https://vrx.example,Europe/Berlin\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,"
        "platform_code\n" + "".join(",".join(map(str, s)) + "\n" for s in feed.stops),
        "routes.txt": "route_id,agency_id,route_short_name,route_type\n"
        + "".join(f"R{r},VRX,{r},3\n" for r in range(routes)),
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\n"
        + "".join(f"{s},{','.join(days)},20260101,20271231\n" for s, days, _ in SERVICES),
        "calendar_dates.txt": "service_id,date,exception_type\n"
        + "".join(f"WD,{d},2\nSU,{d},1\n" for d in HOLIDAYS),
        "trips.txt": "route_id,service_id,trip_id,trip_headsign\n"
        + "".join(",".join(t) + "\n" for t in feed.trips),
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + "".join(
            f"{trip},{_clock(a)},{_clock(d)},{stop},{seq}\n"
            for trip, seq, stop, a, d in feed.stop_times
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def realtime_message(feed: Feed) -> bytes:
    chance = random.Random(7)
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = int(DAY.timestamp())
    working = [t for t in feed.trips if t[1] == "WD"]
    for number, trip in enumerate(chance.sample(working, min(2100, len(working)))):
        entity = message.entity.add()
        entity.id = str(number)
        entity.trip_update.trip.trip_id = trip[2]
        if number < 100:
            entity.trip_update.trip.schedule_relationship = rt.TripDescriptor.CANCELED
            continue
        for sequence in (3, 9):
            update = entity.trip_update.stop_time_update.add()
            update.stop_sequence = sequence
            update.departure.delay = chance.randrange(0, 600, 30)
    return message.SerializeToString()


# --- figures ---------------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace, feed: Feed, path: Path) -> None:
    print(f"\n== {backend}: {len(feed.stop_times):,} stop times ==")
    with hub_database(backend, "gtfs", "cityhub-gtfs-") as (overrides, store):
        config = ConnectorConfig.model_validate({"type": "gtfs", "url": str(path)})
        settings = load_settings({**overrides, "connectors": {"region": config}}, environ={})
        fields = {"slug": "region", "title": "Region X", "licence": "cc-by/4.0"}
        store.write_blocking(lambda c: datasets.create_dataset(c, **fields))
        seconds = load_through_connector(store, settings)
        floor = bare_insert(store, feed)
        report(
            "load: connector run",
            f"{seconds:.2f} s",
            f"{floor:.2f} s bare insert",
            seconds / floor,
            lower_is_better=True,
        )
        print(f"  {'':<34} {len(feed.stop_times) / seconds:>10,.0f} stop times/s")
        feed_id = store.read_blocking(lambda c: c.scalar(text("SELECT id FROM gtfs_feeds")))
        saved = store.write_blocking(
            lambda c: realtime.save(
                c, feed_id, ZONE, realtime.parse(realtime_message(feed)), "bench", DAY
            )
        )
        print(f"  realtime kept: {saved}")
        for label, stop, platforms in (
            ("central station, 12 platforms", "HBF", feed.central),
            ("ordinary stop", feed.ordinary, [feed.ordinary]),
        ):
            ours, bare = departures(store, feed_id, stop, platforms, args.repeat)
            report(
                f"departures: {label}",
                f"{ours:.2f} ms",
                f"{bare:.2f} ms plain SQL",
                ours / bare,
                lower_is_better=True,
            )
        with running_hub(overrides, hub_env()) as (_process, base):
            ours, health = over_http(base, "HBF", args.repeat)
            report(
                "GET /departures (central)",
                f"{ours:.2f} ms",
                f"{health:.2f} ms /api/health",
                ours / health,
                lower_is_better=True,
            )


def load_through_connector(store: Store, settings: Settings) -> float:
    async def run() -> Any:
        service = ConnectorService(store, settings)
        try:
            return await service.run_now("region")
        finally:
            await service.aclose()

    started = time.perf_counter()
    outcome = asyncio.run(run())
    elapsed = time.perf_counter() - started
    if outcome.status != "ok":
        raise SystemExit(f"the connector run failed: {outcome.error}")
    print(f"  {outcome.summary.describe()}")
    return elapsed


def bare_insert(store: Store, feed: Feed) -> float:
    """Seconds to bulk insert the stop times, parsed already, into the table as it stands
    (indexes and all) in one transaction, rolled back afterwards."""
    feed_id = store.read_blocking(lambda c: c.scalar(text("SELECT id FROM gtfs_feeds")))
    services = {trip_id: service for _route, service, trip_id, _headsign in feed.trips}
    rows = [
        (feed_id, "F" + t, s, stop, a, d, None, 1, services[t])
        for t, s, stop, a, d in feed.stop_times
    ]
    columns = [c.name for c in schema.gtfs_stop_times.columns]
    with store.write_engine.connect() as connection:
        transaction = connection.begin()
        started = time.perf_counter()
        BulkLoader(connection).load(schema.gtfs_stop_times, columns, rows)
        elapsed = time.perf_counter() - started
        transaction.rollback()
    return elapsed


def _instants(repeat: int) -> list[datetime]:
    chance = random.Random(3)
    return [DAY + timedelta(minutes=chance.randrange(5 * 60, 23 * 60)) for _ in range(repeat)]


def departures(
    store: Store, feed_id: int, stop: str, platforms: list[str], repeat: int
) -> tuple[float, float]:
    """Median ms of the departures API's statements and of the plain index SQL."""
    instants = _instants(repeat)
    marks = ", ".join(f"'{p}'" for p in platforms)
    plain = text(
        "SELECT trip_id, departure FROM gtfs_stop_times WHERE feed_id = :feed "
        f"AND stop_id IN ({marks}) AND departure >= :low AND boards = 1 "
        "ORDER BY departure LIMIT 10"
    )
    ours_times, plain_times = [], []
    for at in instants:
        low = int((at - DAY.replace(hour=0)).total_seconds())
        for target, call in (
            (ours_times, lambda c, at=at: _answer(c, stop, None, at.astimezone(UTC), 10, ANYONE)),
            (plain_times, lambda c, low=low: c.execute(plain, {"feed": feed_id, "low": low}).all()),
        ):
            started = time.perf_counter()
            result = store.read_blocking(call)
            target.append((time.perf_counter() - started) * 1000)
            assert result
    sample = store.read_blocking(
        lambda c: _answer(c, stop, None, instants[0].astimezone(UTC), 10, ANYONE)
    )
    assert len(sample["departures"]) == 10, sample
    return statistics.median(ours_times), statistics.median(plain_times)


def over_http(base: str, stop: str, repeat: int) -> tuple[float, float]:
    instants = _instants(repeat)
    ours, health = [], []
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/api/health")
        for at in instants:
            for target, path, params in (
                (ours, "/departures", {"stop": stop, "at": at.isoformat(), "limit": 10}),
                (health, "/api/health", None),
            ):
                started = time.perf_counter()
                response = client.get(path, params=params)
                target.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}: {response.text}")
    return statistics.median(ours), statistics.median(health)


if __name__ == "__main__":
    main()
