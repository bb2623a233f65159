"""Entities written as JSON text by the database, for answers of many rows at once.

The members, their order and their values are those of ``serialize``: its ``layout`` says
which members go out in which order, and each property kind becomes the SQL expression that
writes its value as ``serialize`` does (strings quoted as orjson quotes them, documents as
stored, times as ``wire_instant`` writes them). Python then joins one text per row.

Floating-point results are the exception: neither SQLite nor PostgreSQL writes a double as
orjson does (the shortest text that reads back the same), so the text leaves a gap there and
the statement hands the number over for Python to write in (``JsonText.columns``, ``joined``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    type_coerce,
)
from sqlalchemy import null as sql_null

from cityhub.sensorthings.model import EntityType, Kind, Property
from cityhub.sensorthings.serialize import layout
from cityhub.store import schema

#: Where a floating-point result is written in by Python.
GAP = object()
#: Arguments of one ``format``/``printf`` call at most (PostgreSQL takes 100 in all), and
#: fewer than which ``||`` is cheaper.
_MAX_ARGUMENTS = 60
_FEW_ARGUMENTS = 6


@dataclass(frozen=True)
class _When:
    """Pieces written only where ``condition`` holds."""

    condition: ColumnElement[bool]
    pieces: tuple[Any, ...]


class JsonText:
    """JSON text being built from constant text, SQL text expressions and at most one ``GAP``;
    ``columns`` writes it as SQL."""

    def __init__(self) -> None:
        self.pieces: list[Any] = []

    def text(self, value: str) -> JsonText:
        """Constant JSON text (merged with the constant text before it)."""
        if self.pieces and isinstance(self.pieces[-1], str):
            self.pieces[-1] += value
        else:
            self.pieces.append(value)
        return self

    def sql(self, expression: ColumnElement[Any]) -> JsonText:
        self.pieces.append(expression)
        return self

    def gap(self) -> JsonText:
        self.pieces.append(GAP)
        return self

    def add(self, other: JsonText) -> JsonText:
        for piece in other.pieces:
            if isinstance(piece, str):
                self.text(piece)
            else:
                self.pieces.append(piece)
        return self

    def when(self, condition: ColumnElement[bool], other: JsonText) -> JsonText:
        """``other`` where ``condition`` holds, nothing elsewhere (its gap stays a gap: the
        number handed over must be NULL where the condition fails)."""
        for run in _runs(other.pieces):
            if run is GAP:
                self.gap()
            else:
                self.pieces.append(_When(condition, tuple(run)))
        return self

    def columns(
        self, values: Values, number: ColumnElement[Any]
    ) -> tuple[ColumnElement[str], ColumnElement[Any], ColumnElement[str]]:
        """The text before the gap, ``number`` (the value for the gap), the text after it;
        without a gap, all the text and NULL."""
        if GAP not in self.pieces:
            return values.concat(self.pieces), sql_null(), values.concat([])
        split = self.pieces.index(GAP)
        before, after = self.pieces[:split], self.pieces[split + 1 :]
        return values.concat(before), number, values.concat(after)


def _runs(pieces: Sequence[Any]) -> Iterable[Any]:
    """The pieces as runs without a gap, and the gaps between them."""
    run: list[Any] = []
    for piece in pieces:
        if piece is GAP:
            if run:
                yield run
            run = []
            yield GAP
        else:
            run.append(piece)
    if run:
        yield run


def _constant(value: str) -> ColumnElement[str]:
    # Constant text of the model (keys, punctuation) is inlined, so the statement is the same
    # for every request and compiles once; what comes from a request is bound (``bound``).
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def _joined(*pieces: str | ColumnElement[str]) -> ColumnElement[str]:
    """A few pieces of text joined with ``||``."""
    parts = [_constant(p) if isinstance(p, str) else p for p in pieces]
    return reduce(lambda left, right: left.concat(right), parts)


def bound(name: str) -> ColumnElement[str]:
    """Text from a request (a base URL, a query), bound as parameter ``name`` at execution."""
    return bindparam(name, type_=Text)


def joined(rows: Iterable[tuple[str, float | None, str]]) -> str:
    """The texts of ``rows`` (before the gap, the number for it, after it) as a JSON array."""
    items = [
        head + tail if number is None else head + orjson.dumps(number).decode() + tail
        for head, number, tail in rows
    ]
    return "[" + ",".join(items) + "]"


def quoted(value: str) -> str:
    """A string as it goes into JSON text, without the quotes."""
    return orjson.dumps(value).decode()[1:-1]


# --- values ------------------------------------------------------------------------------------


def instant_digits(column: ColumnElement[Any], backend: str) -> ColumnElement[str]:
    """A stored time as ISO 8601 in UTC with all six fraction digits and no zone designator
    (``YYYY-MM-DDTHH:MM:SS.ffffff``), formatted by the database; the bulk downloads write it
    as it is, ``Values.instant`` trims it."""
    if backend == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US')
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" in UTC (see ``UTCDateTime``): one replace away.
    return func.replace(type_coerce(column, Text), " ", "T")


class Values:
    """The SQL writing property values of one backend as JSON text."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def concat(self, pieces: Sequence[Any]) -> ColumnElement[str]:
        """The pieces as one text: one ``printf`` (SQLite) or ``format`` (PostgreSQL) call
        with the constant text as its format, which writes a row's text at once (each ``||``
        would copy all of it so far); a few pieces with ``||``."""
        if not pieces:
            return _constant("")
        if len(pieces) == 1 and not isinstance(pieces[0], str):
            return self._argument(pieces[0])
        if sum(not isinstance(piece, str) for piece in pieces) < _FEW_ARGUMENTS:
            return _joined(*(p if isinstance(p, str) else self._argument(p) for p in pieces))
        parts: list[ColumnElement[str]] = []
        template: list[str] = []
        arguments: list[ColumnElement[Any]] = []
        for piece in pieces:
            if isinstance(piece, str):
                template.append(piece.replace("%", "%%"))
                continue
            if len(arguments) == _MAX_ARGUMENTS:
                parts.append(self._format(template, arguments))
                template, arguments = [], []
            template.append("%s")
            arguments.append(self._argument(piece))
        if template:
            parts.append(self._format(template, arguments))
        return reduce(lambda left, right: left.concat(right), parts)

    def _argument(self, piece: Any) -> ColumnElement[str]:
        if isinstance(piece, _When):
            return case((piece.condition, self.concat(piece.pieces)), else_=_constant(""))
        return piece

    def _format(self, template: list[str], arguments: list[ColumnElement[Any]]) -> Any:
        if not arguments:
            return _constant("".join(template).replace("%%", "%"))
        name = "format" if self.backend == "postgresql" else "printf"
        # The format is bound: a "%" in the statement itself would be a parameter to psycopg.
        return getattr(func, name)(literal("".join(template), Text), *arguments, type_=Text)

    def string(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        """A text column as a JSON string (``null`` for NULL), escaped as orjson escapes."""
        if self.backend == "postgresql":
            return func.coalesce(cast(func.to_json(column), Text), _constant("null"))
        return func.json_quote(column, type_=Text)

    @staticmethod
    def document(column: ColumnElement[Any]) -> ColumnElement[str]:
        """A JSON document as stored (as ``reads.fetched`` reads it), ``null`` for NULL."""
        return func.coalesce(cast(column, Text), _constant("null"))

    def instant(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        """A stored time (not NULL) as ``serialize.wire_instant`` writes it, but for the "Z":
        ISO 8601 in UTC, fractional seconds without trailing zeros."""
        if self.backend == "postgresql":
            # A timestamp's JSON is ISO 8601 whatever the DateStyle, trimmed as orjson trims,
            # and about three times faster to write than ``to_char``.
            in_utc = func.to_json(func.timezone("UTC", column))
            return func.btrim(cast(in_utc, Text), _constant('"'))
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff", always with the six digits: every writer
        # stores times through ``UTCDateTime`` or ``BulkLoader.times``.
        whole = func.substr(column, 21) == "000000"
        return case(
            (whole, func.replace(func.substr(column, 1, 19), " ", "T")),
            else_=func.replace(func.rtrim(column, "0"), " ", "T"),
        )

    def time(self, start: ColumnElement[Any], end: ColumnElement[Any] | None) -> JsonText:
        """An instant, or an interval ``start/end`` when there is an end; ``null`` without a
        start."""
        instant = _joined('"', self.instant(start), 'Z"')
        if end is None:
            return JsonText().sql(case((start.is_(None), _constant("null")), else_=instant))
        interval = _joined('"', self.instant(start), "Z/", self.instant(end), 'Z"')
        value = case(
            (start.is_(None), _constant("null")),
            (end.is_(None), instant),
            else_=interval,
        )
        return JsonText().sql(value)

    def result(self, table: FromClause) -> JsonText:
        """An Observation result (as ``serialize.result_value``); a double is left as a gap."""
        c = table.c
        text = case(
            (c.result_type == schema.RESULT_INTEGER, cast(cast(c.result_number, BigInteger), Text)),
            (c.result_type == schema.RESULT_FLOAT, _constant("")),
            (c.result_type == schema.RESULT_STRING, self.string(c.result_string)),
            (c.result_type == schema.RESULT_NULL, _constant("null")),
            else_=self.document(c.result_json),
        )
        return JsonText().sql(text).gap()

    def value(self, prop: Property, table: FromClause) -> JsonText:
        kind = prop.kind
        if kind is Kind.RESULT:
            return self.result(table)
        if kind is Kind.TEXT:
            return JsonText().sql(self.string(table.c[prop.column]))
        if kind in (Kind.INTERVAL, Kind.TIME):
            start, end = (table.c[name] for name in prop.columns)
            return self.time(start, end)
        if kind is Kind.INSTANT:
            return self.time(table.c[prop.column], None)
        return JsonText().sql(self.document(table.c[prop.column]))


def number(table: FromClause) -> ColumnElement[Any]:
    """The number for the gap ``Values.result`` leaves: a double result, NULL otherwise."""
    c = table.c
    return case((c.result_type == schema.RESULT_FLOAT, c.result_number), else_=sql_null())


def members(
    values: Values,
    entity: EntityType,
    table: FromClause,
    select: frozenset[str] | None,
    base: ColumnElement[str],
) -> tuple[JsonText, bool]:
    """One entity's members (``serialize.layout``) after an opening ``{``, without the closing
    ``}`` so that the caller may add more, and whether there are any. ``base`` is the service
    URL as it goes into a JSON string."""
    with_id, with_self_link, links, properties, links_last = layout(entity.name, select)
    out = JsonText().text("{")
    self_link = JsonText().text('"').sql(base).text(f"/{entity.set_name}(")
    self_link.sql(cast(table.c.id, Text)).text(")")
    members: list[tuple[str, JsonText]] = []
    if with_id:
        members.append(("@iot.id", JsonText().sql(cast(table.c.id, Text))))
    if with_self_link:
        members.append(("@iot.selfLink", JsonText().add(self_link).text('"')))
    link_members = [
        (key, JsonText().add(self_link).text(f'{quoted(suffix)}"')) for key, suffix in links
    ]
    by_name = entity.property_by_name
    property_members = [(name, values.value(by_name[name], table)) for name, _, _ in properties]
    if links_last:
        members += property_members + link_members
    else:
        members += link_members + property_members
    for index, (key, value) in enumerate(members):
        out.text(("," if index else "") + orjson.dumps(key).decode() + ":").add(value)
    return out, bool(members)
