"""Reading a GTFS feed zip file by file, row by row: a regional feed never sits in memory.

Files may be at the top of the zip or in one folder; a byte order mark and rows shorter than
the header (trailing empty fields left out) are accepted. Times are seconds after "noon
minus 12 h" of the service day, so 25:10:00 is 90600: the next morning of the same service
day. Stop times without a time (stops between timepoints) are interpolated linearly.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_MISSING = object()
_SEQUENCE = itemgetter(1)


class FeedError(ValueError):
    """The file is not a GTFS feed we can load; the message names the file and the line."""


class StopTime(NamedTuple):
    trip_id: str
    stop_sequence: int
    stop_id: str
    arrival: int | None
    departure: int | None
    headsign: str | None
    pickup_type: int


def parse_time(text: str) -> int | None:
    """``"25:10:00"`` as 90600 seconds; an empty text as ``None``."""
    text = text.strip()
    if not text:
        return None
    try:
        hours, minutes, seconds = text.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    except ValueError:
        raise ValueError(f"'{text}' is not a time HH:MM:SS") from None


def parse_date(text: str) -> int:
    """A GTFS date ``YYYYMMDD`` as the number it reads as."""
    value = int(text.strip())
    if not 19000101 <= value <= 29991231:
        raise ValueError(f"'{text}' is not a date YYYYMMDD")
    return value


class FeedZip:
    """A GTFS zip, from bytes or a path."""

    def __init__(self, source: bytes | Path) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise FeedError(f"not a GTFS zip file: {exc}") from None
        self._members = {Path(n).name: n for n in self._zip.namelist() if n.endswith(".txt")}
        missing = [name for name in REQUIRED_FILES if name not in self._members]
        if not ({"calendar.txt", "calendar_dates.txt"} & self._members.keys()):
            missing.append("calendar.txt or calendar_dates.txt")
        if missing:
            raise FeedError(f"the GTFS zip lacks {', '.join(missing)}")

    def close(self) -> None:
        self._zip.close()

    def has(self, name: str) -> bool:
        return name in self._members

    def rows(self, name: str, columns: dict[str, object]) -> Iterator[tuple[int, list[str]]]:
        """Each row of ``name`` as (line number, values of ``columns`` in order).

        ``columns`` maps a column to its default when the file lacks it; a column whose
        default is ``_MISSING`` (see ``required``) must be there.
        """
        if name not in self._members:
            return
        with self._zip.open(self._members[name]) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            reader = csv.reader(text)
            header = [h.strip() for h in next(reader, [])]
            width = len(header)
            picks = []
            for column, default in columns.items():
                if column in header:
                    picks.append(header.index(column))
                elif default is _MISSING:
                    raise FeedError(f"{name}: the column '{column}' is missing")
                else:
                    picks.append(None)
            defaults = [
                None if p is not None else columns[c] for c, p in zip(columns, picks, strict=True)
            ]
            for line, row in enumerate(reader, start=2):
                if len(row) < width:
                    if not any(row):
                        continue
                    row = row + [""] * (width - len(row))
                yield (
                    line,
                    [row[p] if p is not None else d for p, d in zip(picks, defaults, strict=True)],
                )

    def timezone(self) -> str:
        """The agencies' time zone (GTFS requires all agencies of a feed to share it)."""
        for line, (zone,) in self.rows("agency.txt", {"agency_timezone": _MISSING}):
            try:
                ZoneInfo(zone.strip())
            except (ZoneInfoNotFoundError, ValueError):
                raise FeedError(f"agency.txt line {line}: unknown time zone '{zone}'") from None
            return zone.strip()
        raise FeedError("agency.txt names no agency")

    def stop_times(self) -> Iterator[list[StopTime]]:
        """The stop times trip by trip, ordered by stop_sequence, missing times interpolated."""
        columns = {
            "trip_id": _MISSING,
            "stop_sequence": _MISSING,
            "stop_id": _MISSING,
            "arrival_time": "",
            "departure_time": "",
            "stop_headsign": "",
            "pickup_type": "",
        }
        group: list[StopTime] = []
        clock = _Clock()
        for line, (trip, sequence, stop, arrival, departure, headsign, pickup) in self.rows(
            "stop_times.txt", columns
        ):
            try:
                item = StopTime(
                    trip,
                    int(sequence),
                    stop,
                    clock.seconds(arrival),
                    clock.seconds(departure),
                    headsign or None,
                    int(pickup) if pickup and pickup != "0" else 0,
                )
            except ValueError as exc:
                raise FeedError(f"stop_times.txt line {line}: {exc}") from None
            if group and group[0].trip_id != trip:
                yield _timed(group)
                group = []
            group.append(item)
        if group:
            yield _timed(group)


class _Clock:
    """``parse_time`` remembering its answers: a feed has far fewer distinct times than
    stop times."""

    def __init__(self) -> None:
        self._known: dict[str, int | None] = {}

    def seconds(self, text: str) -> int | None:
        known = self._known.get(text, _MISSING)
        if known is _MISSING:
            known = self._known[text] = parse_time(text)
        return known  # type: ignore[return-value]


def required(*names: str) -> dict[str, object]:
    """Columns that must be present, for ``FeedZip.rows``."""
    return dict.fromkeys(names, _MISSING)


def _timed(group: list[StopTime]) -> list[StopTime]:
    """``group`` (one trip) by stop_sequence, each stop with both times."""
    group.sort(key=_SEQUENCE)
    known = [
        (i, s.arrival if s.arrival is not None else s.departure)
        for i, s in enumerate(group)
        if s.arrival is not None or s.departure is not None
    ]
    if not known:
        raise FeedError(f"stop_times.txt: trip '{group[0].trip_id}' has no times at all")
    for index, stop in enumerate(group):
        if stop.arrival is None or stop.departure is None:
            arrival = stop.arrival if stop.arrival is not None else stop.departure
            if arrival is None:
                arrival = _between(known, index)
            departure = stop.departure if stop.departure is not None else arrival
            group[index] = stop._replace(arrival=arrival, departure=departure)
    return group


def _between(known: list[tuple[int, int]], index: int) -> int:
    """The time at position ``index`` linearly between the nearest timed stops."""
    before = [(i, t) for i, t in known if i < index]
    after = [(i, t) for i, t in known if i > index]
    if not before or not after:
        return (before or after)[-1 if before else 0][1]
    (i0, t0), (i1, t1) = before[-1], after[0]
    return t0 + (t1 - t0) * (index - i0) // (i1 - i0)
