"""An invented GTFS timetable for Solingen, built in memory as a feed zip.

A departure board of the demo should answer at any hour, so every line runs around the
clock (densest by day, a night service every 30 minutes) on one service that runs every day
of a calendar spanning decades: whatever the date the demo is loaded or looked at, buses
leave. The lines and stops are named after real places, but stops, routes and times are
made up. The zip is byte-for-byte the same on every build, so a loader can tell by its digest
that it holds this timetable already.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

FEED_NAME = "solingen-demo"
"""Name of the demo feed (the ``feed`` of ``/departures`` answers)."""

GRAF_WILHELM_PLATZ = "sg-graf-wilhelm-platz"
"""stop_id of the central stop every demo line serves (the default of a demo board)."""
HBF = "sg-hbf"
"""stop_id of Solingen Hbf."""

TIMEZONE = "Europe/Berlin"
SERVICE_ID = "taeglich"
CALENDAR_START = "20200101"
CALENDAR_END = "20991231"

#: stop_id -> (name, lon, lat); ids follow the pattern of German stop ids (DHID) in spirit.
STOPS: dict[str, tuple[str, float, float]] = {
    "sg-hbf": ("Solingen Hbf", 7.00445, 51.16140),
    "sg-ohligs-markt": ("Solingen Ohligs Markt", 7.01190, 51.16620),
    "sg-merscheid": ("Solingen Merscheid", 7.03180, 51.17210),
    "sg-kronprinzenstrasse": ("Solingen Kronprinzenstraße", 7.06940, 51.16930),
    "sg-graf-wilhelm-platz": ("Solingen Graf-Wilhelm-Platz", 7.08150, 51.17060),
    "sg-neumarkt": ("Solingen Neumarkt", 7.08390, 51.17180),
    "sg-rathaus": ("Solingen Rathaus", 7.08360, 51.17290),
    "sg-schlagbaum": ("Solingen Schlagbaum", 7.09790, 51.17760),
    "sg-krahenhoehe": ("Solingen Krahenhöhe", 7.10420, 51.18960),
    "sg-wald-kirchplatz": ("Solingen Wald Kirchplatz", 7.04330, 51.19480),
    "sg-graefrath-markt": ("Solingen Gräfrath Markt", 7.07010, 51.20770),
    "sg-suedpark": ("Solingen Südpark", 7.07050, 51.16470),
    "sg-hoehscheid": ("Solingen Höhscheid", 7.07480, 51.15010),
    "sg-glueder": ("Solingen Glüder", 7.12770, 51.14010),
    "sg-unterburg": ("Solingen Unterburg", 7.14960, 51.13930),
    "sg-burg-bruecke": ("Solingen Burg Brücke", 7.15270, 51.13610),
}


@dataclass(frozen=True)
class _Line:
    """A route run in both directions: its stops in order, minutes between neighbours, and
    the minutes between trips by day (06:00–20:00), evening (to 24:00) and night."""

    route_id: str
    short_name: str
    long_name: str
    route_type: int
    color: str
    stops: tuple[str, ...]
    minutes: tuple[int, ...]
    headways: tuple[int, int, int]
    offset: int


# GTFS route types: 3 bus, 11 trolleybus.
LINES = (
    _Line(
        "683",
        "683",
        "Solingen Hbf – Graf-Wilhelm-Platz – Krahenhöhe",
        11,
        "E2001A",
        (
            "sg-hbf",
            "sg-ohligs-markt",
            "sg-merscheid",
            "sg-kronprinzenstrasse",
            "sg-graf-wilhelm-platz",
            "sg-neumarkt",
            "sg-schlagbaum",
            "sg-krahenhoehe",
        ),
        (4, 5, 6, 3, 2, 4, 5),
        (10, 15, 30),
        0,
    ),
    _Line(
        "681",
        "681",
        "Gräfrath – Wald – Graf-Wilhelm-Platz – Höhscheid",
        3,
        "0065B3",
        (
            "sg-graefrath-markt",
            "sg-wald-kirchplatz",
            "sg-graf-wilhelm-platz",
            "sg-suedpark",
            "sg-hoehscheid",
        ),
        (6, 9, 4, 5),
        (20, 30, 30),
        7,
    ),
    _Line(
        "695",
        "695",
        "Graf-Wilhelm-Platz – Schlagbaum – Glüder – Burg",
        3,
        "00893E",
        (
            "sg-graf-wilhelm-platz",
            "sg-rathaus",
            "sg-schlagbaum",
            "sg-glueder",
            "sg-unterburg",
            "sg-burg-bruecke",
        ),
        (2, 4, 9, 5, 2),
        (15, 30, 30),
        4,
    ),
)


def _starts(line: _Line) -> Iterator[int]:
    """Minutes after midnight at which a trip leaves its first stop, over the whole day."""
    minute = line.offset
    while minute < 24 * 60:
        yield minute
        hour = minute // 60
        day, evening, night = line.headways
        minute += day if 6 <= hour < 20 else evening if hour >= 20 else night


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _trips(line: _Line) -> Iterator[tuple[list[str], list[list[str]]]]:
    """(trips.txt row, stop_times.txt rows) of each trip of ``line``, both directions."""
    for direction in (0, 1):
        stops = line.stops if direction == 0 else tuple(reversed(line.stops))
        gaps = line.minutes if direction == 0 else tuple(reversed(line.minutes))
        headsign = STOPS[stops[-1]][0].removeprefix("Solingen ")
        for start in _starts(line):
            trip_id = f"{line.route_id}-{direction}-{_clock(start)[:5].replace(':', '')}"
            times, minute = [], start
            for sequence, stop in enumerate(stops):
                at = _clock(minute)
                times.append([trip_id, at, at, stop, str(sequence + 1)])
                if sequence < len(gaps):
                    minute += gaps[sequence]
            yield [line.route_id, SERVICE_ID, trip_id, headsign, str(direction)], times


_ROUTE_COLUMNS = [
    "route_id",
    "agency_id",
    "route_short_name",
    "route_long_name",
    "route_type",
    "route_color",
]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_CALENDAR_COLUMNS = ["service_id", *_WEEKDAYS, "start_date", "end_date"]


def _table(header: list[str], rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def feed_files() -> dict[str, bytes]:
    """The feed's text files by name."""
    trips, stop_times = [], []
    for line in LINES:
        for trip, times in _trips(line):
            trips.append(trip)
            stop_times.extend(times)
    return {
        "agency.txt": _table(
            ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"],
            [["sg-demo", "Stadtwerke Solingen (Demo)", "https://example.org/", TIMEZONE, "de"]],
        ),
        "stops.txt": _table(
            ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type"],
            [[key, name, f"{y:.5f}", f"{x:.5f}", "0"] for key, (name, x, y) in STOPS.items()],
        ),
        "routes.txt": _table(
            _ROUTE_COLUMNS,
            [
                [ln.route_id, "sg-demo", ln.short_name, ln.long_name, str(ln.route_type), ln.color]
                for ln in LINES
            ],
        ),
        "calendar.txt": _table(
            _CALENDAR_COLUMNS,
            [[SERVICE_ID, *["1"] * 7, CALENDAR_START, CALENDAR_END]],
        ),
        "trips.txt": _table(
            ["route_id", "service_id", "trip_id", "trip_headsign", "direction_id"], trips
        ),
        "stop_times.txt": _table(
            ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"], stop_times
        ),
    }


def feed_zip() -> bytes:
    """The feed as zip bytes, identical on every call (fixed member times)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in feed_files().items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()
