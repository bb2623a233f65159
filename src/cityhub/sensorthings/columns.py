"""Request values to column values a whole column at a time: the bulk ingest path.

``values`` checks one value of one entity; here thousands of Observation values of one
component arrive together, and the common case — every value well formed — is checked and
converted with C-level passes (``map``, ``set``, ``datetime.fromisoformat``) instead of a
Python call per value. Anything unusual falls back to the per-value functions of ``values``
and ``timeutil``, so the meaning is the same either way: instants carry an offset and become
UTC, fractional seconds beyond microseconds are cut, intervals are ``start/end``.

Every converter returns the converted column and the set of row indices that are invalid;
an invalid row holds ``None`` in the column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

from cityhub.digits import is_digits
from cityhub.errors import BadRequest
from cityhub.sensorthings.values import _has_nul as has_nul
from cityhub.sensorthings.values import result_columns
from cityhub.store import schema
from cityhub.timeutil import TimeValue, parse_instant, parse_time

Rejected = set[int]

# The shape ``YYYY-MM-DDTHH:MM:SS…``: the characters at these positions.
_SHAPE = itemgetter(4, 7, 10, 13, 16)
_SHAPE_CHARACTERS = ("-", "-", "T", ":", ":")
_TZINFO = attrgetter("tzinfo")
_MAX_EXACT_INTEGER = 2**53


def _fast_instants(texts: Sequence[Any]) -> list[datetime] | None:
    """``texts`` as UTC datetimes if every one is a plain ISO 8601 instant, else ``None``.

    ``fromisoformat`` accepts forms that ``parse_instant`` rejects (a space for the ``T``,
    the basic format, week dates, offsets with seconds, no offset); the shape check before it
    and the offset check after it keep exactly the forms both agree on.
    """
    try:
        if set(map(_SHAPE, texts)) != {_SHAPE_CHARACTERS}:
            return None
        parsed = list(map(datetime.fromisoformat, texts))
    except (TypeError, ValueError, IndexError):
        return None
    zones = set(map(_TZINFO, parsed))
    if zones == {UTC}:
        return parsed
    if not all(map(_whole_minutes, zones)):
        return None
    return [value.astimezone(UTC) for value in parsed]


def _whole_minutes(zone: Any) -> bool:
    """Whether a parsed offset is one ``parse_instant`` accepts too (none is not one)."""
    offset = None if zone is None else zone.utcoffset(None)
    return offset is not None and not offset.seconds % 60 and not offset.microseconds


def _fast_instant(text: Any) -> datetime | None:
    """One value the way ``_fast_instants`` takes a column, or ``None``."""
    try:
        if _SHAPE(text) != _SHAPE_CHARACTERS:
            return None
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC) if _whole_minutes(value.tzinfo) else None


def _fast_time(text: Any) -> TimeValue | None:
    """An instant or a ``start/end`` interval of plain instants, or ``None``."""
    if not isinstance(text, str):
        return None
    first, slash, second = text.partition("/")
    start = _fast_instant(first)
    if not slash or start is None:
        return None if start is None else TimeValue(start)
    end = _fast_instant(second)
    return None if end is None or end < start else TimeValue(start, end)


def instants(texts: Sequence[Any], nullable: bool) -> tuple[list[datetime | None], Rejected]:
    """A column of instants (e.g. ``resultTime``); ``null`` is allowed when ``nullable``."""
    fast = _fast_instants(texts)
    if fast is not None:
        return list(fast), set()
    values: list[datetime | None] = []
    rejected: Rejected = set()
    for index, text in enumerate(texts):
        value = None
        if text is not None or not nullable:
            value = _fast_instant(text) or _one(parse_instant, text)
            if value is None:
                rejected.add(index)
        values.append(value)
    return values, rejected


def times(
    texts: Sequence[Any], interval_only: bool = False
) -> tuple[list[datetime | None], list[datetime | None], Rejected]:
    """A column of instants or intervals (``phenomenonTime``, or ``validTime`` with
    ``interval_only``): (starts, ends, rejected). ``null`` gives ``None`` for both ends."""
    if not interval_only:
        fast = _fast_instants(texts)
        if fast is not None:
            return list(fast), [None] * len(fast), set()
    starts: list[datetime | None] = []
    ends: list[datetime | None] = []
    rejected: Rejected = set()
    for index, text in enumerate(texts):
        value = None if text is None else _fast_time(text) or _one(parse_time, text)
        if text is not None and (value is None or (interval_only and not value.is_interval)):
            rejected.add(index)
            value = None
        starts.append(value.start if value else None)
        ends.append(value.end if value else None)
    return starts, ends, rejected


def _one(parse: Any, text: Any) -> Any:
    """``parse(text)``, or ``None`` if ``text`` is not a valid time string."""
    if not isinstance(text, str):
        return None
    try:
        return parse(text)
    except BadRequest:
        return None


def results(values: Sequence[Any]) -> tuple[dict[str, list[Any]], Rejected]:
    """A column of results in the typed result columns of ``schema.observations``.

    Columns of only floats, only integers or only strings — what sensors send — are
    converted without a Python call per value; mixed columns take ``result_columns`` per
    value. ``null`` is rejected: an Observation needs a result.
    """
    count = len(values)
    nothing: list[Any] = [None] * count
    kinds = set(map(type, values))
    if kinds == {float} and all(map(math.isfinite, values)):
        code = [schema.RESULT_FLOAT] * count
        return _typed(code, list(values), nothing, nothing), set()
    if kinds == {int} and min(values) >= -_MAX_EXACT_INTEGER and max(values) <= _MAX_EXACT_INTEGER:
        code = [schema.RESULT_INTEGER] * count
        return _typed(code, list(values), nothing, nothing), set()
    if kinds == {str} and "\x00" not in "".join(values):
        code = [schema.RESULT_STRING] * count
        return _typed(code, nothing, list(values), nothing), set()
    return _mixed_results(values)


def _typed(code: list[int], numbers: list[Any], strings: list[Any], documents: list[Any]) -> dict:
    return {
        "result_type": code,
        "result_number": numbers,
        "result_string": strings,
        "result_json": documents,
    }


def _mixed_results(values: Sequence[Any]) -> tuple[dict[str, list[Any]], Rejected]:
    columns: dict[str, list[Any]] = {
        "result_type": [],
        "result_number": [],
        "result_string": [],
        "result_json": [],
    }
    rejected: Rejected = set()
    for index, value in enumerate(values):
        try:
            if value is None or has_nul(value):
                raise BadRequest("no result")
            row = result_columns(value)
        except BadRequest:
            rejected.add(index)
            row = result_columns(None)
        for name, column in columns.items():
            column.append(row[name])
    return columns, rejected


def documents(values: Sequence[Any], objects_only: bool) -> tuple[list[Any], Rejected]:
    """A column of JSON values (``resultQuality``), or of objects (``parameters``)."""
    rejected: Rejected = set()
    if set(map(type, values)) <= {type(None)}:
        return list(values), rejected
    for index, value in enumerate(values):
        if value is None:
            continue
        if (objects_only and not isinstance(value, dict)) or has_nul(value):
            rejected.add(index)
    return [None if i in rejected else v for i, v in enumerate(values)], rejected


def references(
    values: Sequence[Any], holds_id: Callable[[int], bool]
) -> tuple[list[int | None], Rejected]:
    """A column of entity ids (``FeatureOfInterest/id``); ``null`` means "not given".

    ``holds_id`` is the entity's id range check (``EntityType.holds_id``), a range, so its
    ends decide for the whole column.
    """
    kinds = set(map(type, values))
    if kinds == {int} and holds_id(min(values)) and holds_id(max(values)):
        return list(values), set()
    ids: list[int | None] = []
    rejected: Rejected = set()
    for index, value in enumerate(values):
        entity_id = parse_id(value) if value is not None else None
        if value is not None and (entity_id is None or not holds_id(entity_id)):
            rejected.add(index)
            entity_id = None
        ids.append(entity_id)
    return ids, rejected


def parse_id(value: Any) -> int | None:
    """An ``@iot.id`` as clients send it: an integer, or a string of digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and is_digits(value):
        return int(value)
    return None
