"""The query parameters of the ``/features`` face, checked: every mistake is a 400 that names
the parameter. Parameters no endpoint knows are refused (a misspelt ``bbox`` must not
silently return everything); names that are no standard parameter are queryables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cityhub.errors import BadRequest
from cityhub.features import crs
from cityhub.timeutil import parse_date, parse_instant

DEFAULT_LIMIT = 10
MAX_LIMIT = 10000
#: Beyond any collection; bigger numbers would not fit the databases' integers.
MAX_OFFSET = 10**12
#: Parameters of the items endpoint; any other name is a queryable.
ITEMS_PARAMETERS = frozenset(
    {
        "f",
        "limit",
        "offset",
        "bbox",
        "bbox-crs",
        "datetime",
        "crs",
        "filter",
        "filter-lang",
        "filter-crs",
        "near",
        "radius",
        "within",
    }
)
FILTER_LANGUAGES = ("cql2-text", "cql2-json")
_CRS84 = crs.CRS84


@dataclass(frozen=True)
class TimeRange:
    """A ``datetime`` parameter: an instant (start == end) or an interval, None for open ends."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float


@dataclass
class ItemsQuery:
    """A checked items request."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None  # WGS 84 lon/lat
    time: TimeRange | None = None
    crs: str = _CRS84
    filter: str | None = None
    filter_lang: str = "cql2-text"
    filter_crs: str = _CRS84
    near: Point | None = None
    radius: float | None = None
    within: tuple[str, str] | None = None
    properties: dict[str, str] = field(default_factory=dict)


def single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"'{name}' is given {len(values)} times; give it once")
    return values[0]


def check_known(params: Mapping[str, list[str]], allowed: frozenset[str]) -> None:
    unknown = sorted(set(params) - allowed)
    if unknown:
        known = f"allowed: {', '.join(sorted(allowed))}" if allowed else "it takes none"
        raise BadRequest(f"unknown query parameter '{unknown[0]}'; {known}")


def integer(text: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"'{name}' must be a whole number, got {text!r}") from None
    if value < low or (high is not None and value > high):
        upper = f" and at most {high}" if high is not None else ""
        raise BadRequest(f"'{name}' must be at least {low}{upper}, got {value}")
    return value


def numbers(text: str, name: str, counts: tuple[int, ...]) -> tuple[float, ...]:
    parts = text.split(",")
    if len(parts) not in counts:
        wanted = " or ".join(str(count) for count in counts)
        raise BadRequest(f"'{name}' takes {wanted} comma-separated numbers, got {text!r}")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        raise BadRequest(f"'{name}' takes numbers, got {text!r}") from None
    if not all(math.isfinite(value) for value in values):
        raise BadRequest(f"'{name}' takes finite numbers, got {text!r}")
    return values


def parse_bbox(text: str, bbox_crs: str) -> tuple[float, float, float, float]:
    values = numbers(text, "bbox", (4, 6))
    half = len(values) // 2
    if values[0] > values[half] or values[1] > values[half + 1]:
        raise BadRequest(f"'bbox' has its lower corner above its upper corner: {text!r}")
    box = crs.bbox_to_storage(values, bbox_crs)
    if bbox_crs in (crs.CRS84, crs.EPSG_4326) and not (-90 <= box[1] <= 90 and -90 <= box[3] <= 90):
        raise BadRequest(f"'bbox' has a latitude beyond ±90: {text!r}")
    return box


def parse_datetime(text: str) -> TimeRange:
    """An RFC 3339 instant or date, or an interval ``start/end`` with ``..`` or nothing for an
    open end."""
    if "/" not in text:
        start, end = _bounds(text.strip(), "datetime")
        return TimeRange(start, end)
    first, _, second = text.partition("/")
    start = None if first.strip() in ("", "..") else _bounds(first.strip(), "datetime")[0]
    end = None if second.strip() in ("", "..") else _bounds(second.strip(), "datetime")[1]
    if start is None and end is None:
        raise BadRequest("'datetime' needs at least one end of the interval, not '../..'")
    if start is not None and end is not None and start > end:
        raise BadRequest(f"'datetime' ends before it starts: {text!r}")
    return TimeRange(start, end)


def _bounds(text: str, name: str) -> tuple[datetime, datetime]:
    """An instant as itself; a date as the whole day (UTC)."""
    if len(text) == 10:
        day = parse_date(text)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1) - timedelta(microseconds=1)
    try:
        instant = parse_instant(text)
    except BadRequest as exc:
        raise BadRequest(f"'{name}': {exc.message}") from None
    return instant, instant


def parse_point(text: str, name: str) -> Point:
    lon, lat = numbers(text, name, (2,))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadRequest(f"'{name}' is longitude,latitude in WGS 84; got {text!r}")
    return Point(lon, lat)


def parse_radius(text: str | None) -> float | None:
    if text is None:
        return None
    (value,) = numbers(text, "radius", (1,))
    if value <= 0:
        raise BadRequest(f"'radius' is a distance in metres greater than 0, got {text!r}")
    return value


def parse_within(text: str) -> tuple[str, str]:
    collection, _, feature = text.partition("/")
    if not collection or not feature:
        raise BadRequest(
            f"'within' names a feature as COLLECTION/FEATURE_ID, e.g. districts/17; got {text!r}"
        )
    return collection, feature


def parse_items(params: Mapping[str, list[str]], queryable: frozenset[str] | None) -> ItemsQuery:
    """The items request; ``queryable``: names allowed as property parameters (None: any)."""
    extra = set(params) - ITEMS_PARAMETERS
    if queryable is not None and extra - queryable:
        name = sorted(extra - queryable)[0]
        raise BadRequest(
            f"unknown query parameter '{name}': neither a parameter of this endpoint "
            f"({', '.join(sorted(ITEMS_PARAMETERS))}) nor a queryable of the collection "
            f"({', '.join(sorted(queryable))})"
        )
    query = ItemsQuery(
        limit=integer(single(params, "limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=integer(single(params, "offset"), "offset", 0, 0, MAX_OFFSET),
        properties={name: single(params, name) or "" for name in sorted(extra)},
    )
    query.crs = crs.parse_crs(single(params, "crs") or crs.CRS84, "crs")
    bbox_crs = crs.parse_crs(single(params, "bbox-crs") or crs.CRS84, "bbox-crs")
    if (bbox := single(params, "bbox")) is not None:
        query.bbox = parse_bbox(bbox, bbox_crs)
    elif single(params, "bbox-crs") is not None:
        raise BadRequest("'bbox-crs' is given without 'bbox'")
    if (time := single(params, "datetime")) is not None:
        query.time = parse_datetime(time)
    _filter_parameters(params, query)
    if (near := single(params, "near")) is not None:
        query.near = parse_point(near, "near")
    query.radius = parse_radius(single(params, "radius"))
    if query.radius is not None and query.near is None:
        raise BadRequest("'radius' is given without 'near' (near=lon,lat)")
    if (within := single(params, "within")) is not None:
        query.within = parse_within(within)
    return query


def _filter_parameters(params: Mapping[str, list[str]], query: ItemsQuery) -> None:
    query.filter = single(params, "filter")
    language = single(params, "filter-lang")
    if language is not None:
        if language not in FILTER_LANGUAGES:
            raise BadRequest(
                f"unsupported 'filter-lang' {language!r}; use one of {', '.join(FILTER_LANGUAGES)}"
            )
        query.filter_lang = language
    query.filter_crs = crs.parse_crs(single(params, "filter-crs") or crs.CRS84, "filter-crs")
    if query.filter is None and (language is not None or "filter-crs" in params):
        raise BadRequest("'filter-lang' and 'filter-crs' need a 'filter'")
