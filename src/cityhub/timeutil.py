"""ISO 8601 parsing and formatting for SensorThings time values.

SensorThings times are instants or intervals (``start/end``). Every instant must carry an
explicit offset: a local time without one cannot be placed on the time line, so it is rejected
rather than guessed. All parsed values are normalised to UTC so that comparisons and storage
never depend on the offset the client happened to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from cityhub.errors import BadRequest

__all__ = [
    "STRICT_INSTANT_PATTERN",
    "TimeValue",
    "format_instant",
    "format_time",
    "parse_date",
    "parse_duration",
    "parse_instant",
    "parse_time",
]

_INSTANT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
#: Instants that SQL reads from text alike on SQLite and PostgreSQL (anchored, POSIX and
#: Python syntax): year 0001-9999, optional seconds with at most six fractional digits, and
#: ``Z`` or an offset PostgreSQL accepts (below 16 hours).
STRICT_INSTANT_PATTERN = (
    r"^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])-"
    r"(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-](0[0-9]|1[0-5]):[0-5][0-9])$"
)
_OFFSET = re.compile(r"(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2})?")
_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")
_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?"
    r"(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)


@dataclass(frozen=True)
class TimeValue:
    """An instant (``end is None``) or a closed interval, both ends aware and in UTC."""

    start: datetime
    end: datetime | None = None

    @property
    def is_interval(self) -> bool:
        """True for ``start/end`` values; SensorThings treats the two kinds differently."""
        return self.end is not None


def parse_date(text: str) -> date:
    """Parse a calendar date ``YYYY-MM-DD``; no time and no offset are allowed."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise BadRequest(f"invalid date {text!r}: expected YYYY-MM-DD")
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError as exc:
        raise BadRequest(f"invalid date {text!r}: {exc}") from None


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date-time with a mandatory offset and return it as aware UTC.

    Fractional seconds of any length are accepted; digits beyond microseconds are truncated
    because the storage precision is one microsecond.
    """
    value = text.strip()
    match = _INSTANT.fullmatch(value)
    if match is None:
        if _DATE.fullmatch(value):
            raise BadRequest(f"invalid date-time {text!r}: a time of day and offset are required")
        raise BadRequest(f"invalid date-time {text!r}: expected ISO 8601 like 2024-01-02T03:04:05Z")
    if match["offset"] is None:
        raise BadRequest(
            f"time zone offset required in date-time {text!r} (append 'Z' or e.g. '+01:00')"
        )
    year, month, day = (int(part) for part in match["date"].split("-"))
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        local = datetime(
            year,
            month,
            day,
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int(fraction),
            tzinfo=_parse_offset(match["offset"], text),
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"invalid date-time {text!r}: {exc}") from None


def _parse_offset(text: str, source: str) -> timezone:
    """Turn ``Z``/``±hh[:mm]`` into a fixed offset, rejecting out-of-range values."""
    if text in ("Z", "z"):
        return UTC
    match = _OFFSET.fullmatch(text)
    if match is None:  # pragma: no cover - the instant pattern only admits valid shapes
        raise BadRequest(f"invalid time zone offset {text!r} in {source!r}")
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if hours > 23 or minutes > 59:
        raise BadRequest(f"invalid time zone offset {text!r} in {source!r}")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match["sign"] == "-" else delta)


def parse_duration(text: str) -> timedelta:
    """Parse an ISO 8601 duration made of weeks, days, hours, minutes and seconds.

    Years and months are rejected: their length depends on the calendar position, so they
    cannot be expressed as a fixed span of time.
    """
    value = text.strip()
    match = _DURATION.fullmatch(value)
    if match is None or value.lstrip("-") == "P" or value.endswith("T"):
        raise BadRequest(f"invalid duration {text!r}: expected ISO 8601 like P1DT2H30M")
    if match["years"] or match["months"]:
        raise BadRequest(
            f"unsupported duration {text!r}: years and months have no fixed length; "
            "use days (D) or weeks (W)"
        )
    seconds = float(match["seconds"].replace(",", ".")) if match["seconds"] else 0.0
    delta = timedelta(
        weeks=int(match["weeks"] or 0),
        days=int(match["days"] or 0),
        hours=int(match["hours"] or 0),
        minutes=int(match["minutes"] or 0),
        seconds=seconds,
    )
    return -delta if match["sign"] else delta


def parse_time(text: str) -> TimeValue:
    """Parse an instant or an interval ``start/end``, ``start/duration`` or ``duration/end``."""
    value = text.strip()
    parts = value.split("/")
    if len(parts) == 1:
        return TimeValue(parse_instant(value))
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise BadRequest(f"invalid time interval {text!r}: expected start/end")
    first, second = (part.strip() for part in parts)
    first_is_duration = first[:1] in ("P", "-")
    second_is_duration = second[:1] in ("P", "-")
    if first_is_duration and second_is_duration:
        raise BadRequest(f"invalid time interval {text!r}: at most one end may be a duration")
    if first_is_duration:
        end = parse_instant(second)
        start = end - _interval_duration(first, text)
    elif second_is_duration:
        start = parse_instant(first)
        end = start + _interval_duration(second, text)
    else:
        start, end = parse_instant(first), parse_instant(second)
    if end < start:
        raise BadRequest(f"invalid time interval {text!r}: end is before start")
    return TimeValue(start, end)


def _interval_duration(text: str, source: str) -> timedelta:
    """A duration bounding an interval must be positive, or the interval would be reversed."""
    delta = parse_duration(text)
    if delta < timedelta(0):
        raise BadRequest(f"invalid time interval {source!r}: duration must not be negative")
    return delta


def format_instant(value: datetime) -> str:
    """Format an aware datetime in UTC with a ``Z`` suffix and no trailing fraction zeros."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("format_instant needs an aware datetime")
    text = value.astimezone(UTC).isoformat()[:-6]  # without "+00:00"; C-fast on hot paths
    if "." in text:
        text = text.rstrip("0")
    return text + "Z"


def format_time(start: datetime, end: datetime | None = None) -> str:
    """Format an instant, or an interval as ``start/end``."""
    if end is None:
        return format_instant(start)
    return f"{format_instant(start)}/{format_instant(end)}"
