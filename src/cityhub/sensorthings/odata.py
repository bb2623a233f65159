"""Parser for the OData expression language used by SensorThings ``$filter`` and ``$orderby``.

The parser only builds a syntax tree; deciding what a path or function means for a given
entity set is left to the translation layer. Every node remembers where it started in the
source text so that later stages can point a client at the exact offending spot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import shapely.wkt
from shapely.errors import ShapelyError
from shapely.geometry import mapping

from cityhub.errors import BadRequest, QuerySyntaxError
from cityhub.timeutil import TimeValue, parse_date, parse_duration, parse_instant, parse_time

__all__ = [
    "BINARY_OPERATORS",
    "FUNCTIONS",
    "BinaryOp",
    "Call",
    "GeoLiteral",
    "Literal",
    "LiteralValue",
    "Node",
    "Path",
    "UnaryOp",
    "parse_expression",
]

# Name -> (minimum, maximum) number of arguments.
FUNCTIONS: dict[str, tuple[int, int]] = {
    # strings
    "substringof": (2, 2),
    "endswith": (2, 2),
    "startswith": (2, 2),
    "length": (1, 1),
    "indexof": (2, 2),
    "substring": (2, 3),
    "tolower": (1, 1),
    "toupper": (1, 1),
    "trim": (1, 1),
    "concat": (2, 2),
    # date and time
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
    "hour": (1, 1),
    "minute": (1, 1),
    "second": (1, 1),
    "fractionalseconds": (1, 1),
    "date": (1, 1),
    "time": (1, 1),
    "totaloffsetminutes": (1, 1),
    "now": (0, 0),
    "mindatetime": (0, 0),
    "maxdatetime": (0, 0),
    # math
    "round": (1, 1),
    "floor": (1, 1),
    "ceiling": (1, 1),
    # geospatial
    "geo.distance": (2, 2),
    "geo.length": (1, 1),
    "geo.intersects": (2, 2),
    "st_equals": (2, 2),
    "st_disjoint": (2, 2),
    "st_touches": (2, 2),
    "st_within": (2, 2),
    "st_overlaps": (2, 2),
    "st_crosses": (2, 2),
    "st_intersects": (2, 2),
    "st_contains": (2, 2),
    "st_relate": (3, 3),
    # the hub's own: a feature of a collection as a geometry (see ``places``)
    "cityhub.feature": (2, 2),
}

# Binary operator -> binding power; higher binds tighter. All are left-associative.
BINARY_OPERATORS: dict[str, int] = {
    "or": 1,
    "and": 2,
    "eq": 3,
    "ne": 3,
    "gt": 4,
    "ge": 4,
    "lt": 4,
    "le": 4,
    "add": 5,
    "sub": 5,
    "mul": 6,
    "div": 6,
    "mod": 6,
}
_UNARY_POWER = 7
_LITERAL_WORDS: dict[str, object] = {"null": None, "true": True, "false": False}


@dataclass(frozen=True)
class GeoLiteral:
    """A ``geography'…'``/``geometry'…'`` literal, held as GeoJSON for the database layer.

    ``None`` is no geometry: a ``cityhub.feature(…)`` naming nothing the reader may see.
    """

    geojson: dict[str, Any] | None
    kind: str = "geography"


LiteralValue = (
    None | bool | int | float | str | datetime | date | time | timedelta | TimeValue | GeoLiteral
)


@dataclass(frozen=True)
class Literal:
    """A constant; date-times are aware UTC, unquoted ``start/end`` values are TimeValues,
    ``hh:mm:ss`` is a time of day."""

    value: LiteralValue
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Path:
    """Member access such as ``Datastream/Thing/name``; array indices are int segments."""

    segments: tuple[str | int, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BinaryOp:
    """``left op right``; ``pos`` is the position of the operator keyword."""

    op: str
    left: Node
    right: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class UnaryOp:
    """``not x`` or ``-x``; ``pos`` is the position of the operator."""

    op: str
    operand: Node
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call with its lowercased name; ``pos`` is the position of the name."""

    name: str
    args: tuple[Node, ...]
    pos: int = field(default=0, compare=False)


Node = Literal | Path | BinaryOp | UnaryOp | Call


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "string", "ident", "literal", "eof" or the punctuation character
    text: str
    pos: int
    value: object = None


_WHITESPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"(?:@|[^\W\d])[\w.]*")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_OF_DAY = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
_DURATION = re.compile(r"-?P[0-9A-Za-z.,]*")
_PUNCTUATION = "(),/[]-"
_TYPED_PREFIXES = ("geography", "geometry", "duration")
_SRID = re.compile(r"\s*SRID\s*=\s*\d+\s*;", re.IGNORECASE)


class _Lexer:
    """Splits ``text[start:end]`` into tokens whose positions refer to the whole ``text``."""

    def __init__(self, text: str, start: int, end: int, fail: _Fail) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.fail = fail

    def tokens(self) -> Iterator[_Token]:
        pos = self.start
        while True:
            space = _WHITESPACE.match(self.text, pos, self.end)
            if space:
                pos = space.end()
            if pos >= self.end:
                yield _Token("eof", "", self.end)
                return
            token = self._next(pos)
            yield token
            pos = token.pos + len(token.text)

    def _next(self, pos: int) -> _Token:
        char = self.text[pos]
        if char == "'":
            value, end = self._string(pos)
            return _Token("string", self.text[pos:end], pos, value)
        if "0" <= char <= "9":
            return self._numeric(pos)
        if char in _PUNCTUATION:
            return _Token(char, char, pos)
        ident = _IDENT.match(self.text, pos, self.end)
        if ident:
            end = ident.end()
            word = ident.group()
            if end < self.end and self.text[end] == "'" and not _is_keyword(word):
                return self._typed(pos, word)
            return _Token("ident", ident.group(), pos)
        raise self.fail(f"unexpected character {char!r}", pos)

    def _string(self, pos: int) -> tuple[str, int]:
        """Read a quoted string starting at ``pos``; ``''`` stands for one quote."""
        chars: list[str] = []
        index = pos + 1
        while index < self.end:
            char = self.text[index]
            if char == "'":
                if index + 1 < self.end and self.text[index + 1] == "'":
                    chars.append("'")
                    index += 2
                    continue
                return "".join(chars), index + 1
            chars.append(char)
            index += 1
        raise self.fail("unterminated string", pos)

    def _numeric(self, pos: int) -> _Token:
        """Numbers, dates, date-times and unquoted ``start/end`` intervals start with a digit."""
        moment = _DATETIME.match(self.text, pos, self.end)
        if moment:
            end = moment.end()
            kind = parse_instant
            if end < self.end and self.text[end] == "/":
                other = _DATETIME.match(self.text, end + 1, self.end) or _DURATION.match(
                    self.text, end + 1, self.end
                )
                if other:
                    end = other.end()
                    kind = parse_time
            return self._convert(pos, end, kind)
        day = _DATE.match(self.text, pos, self.end)
        if day:
            return self._convert(pos, day.end(), parse_date)
        clock = _TIME_OF_DAY.match(self.text, pos, self.end)
        if clock:
            return self._convert(pos, clock.end(), _parse_time_of_day)
        number = _NUMBER.match(self.text, pos, self.end)
        assert number is not None  # the caller saw a digit
        if self._continues(number.end()):
            raise self.fail("invalid number", pos)
        text = number.group()
        value: object = float(text) if any(c in text for c in ".eE") else int(text)
        return _Token("number", text, pos, value)

    def _continues(self, end: int) -> bool:
        """Whether a token ending at ``end`` runs straight into more word characters."""
        return end < self.end and (self.text[end].isalnum() or self.text[end] in "_.:")

    def _convert(self, pos: int, end: int, convert: Any) -> _Token:
        if self._continues(end):
            raise self.fail("invalid date/time literal", pos)
        text = self.text[pos:end]
        try:
            value = convert(text)
        except BadRequest as exc:
            raise self.fail(exc.message, pos) from None
        return _Token("literal", text, pos, value)

    def _typed(self, pos: int, prefix: str) -> _Token:
        """``geography'…'``, ``geometry'…'`` and ``duration'…'`` literals."""
        kind = prefix.lower()
        if kind not in _TYPED_PREFIXES:
            raise self.fail(f"unknown literal type {prefix!r}", pos)
        body, end = self._string(pos + len(prefix))
        if kind == "duration":
            try:
                value: object = parse_duration(body)
            except BadRequest as exc:
                raise self.fail(exc.message, pos) from None
        else:
            value = GeoLiteral(self._geojson(body, kind, pos), kind)
        return _Token("literal", self.text[pos:end], pos, value)

    def _geojson(self, wkt: str, kind: str, pos: int) -> dict[str, Any]:
        srid = _SRID.match(wkt)
        body = wkt[srid.end() :] if srid else wkt
        try:
            geometry = shapely.wkt.loads(body)
        except (ShapelyError, ValueError):
            raise self.fail(f"invalid WKT in {kind} literal: {wkt!r}", pos) from None
        if geometry.is_empty:
            raise self.fail(f"empty geometry in {kind} literal: {wkt!r}", pos)
        if not geometry.is_valid:
            reason = shapely.is_valid_reason(geometry)
            raise self.fail(f"invalid geometry in {kind} literal ({reason}): {wkt!r}", pos)
        return _listify(mapping(geometry))


def _parse_time_of_day(text: str) -> time:
    """``hh:mm[:ss[.fffffff]]``; digits beyond microseconds are dropped, as for instants."""
    main, _, fraction = text.partition(".")
    try:
        value = time.fromisoformat(main)
    except ValueError:
        raise BadRequest(f"invalid time of day {text!r}: expected hh:mm:ss") from None
    return value.replace(microsecond=int(fraction[:6].ljust(6, "0")))


def _is_keyword(word: str) -> bool:
    return word in BINARY_OPERATORS or word == "not"


def _listify(value: Any) -> Any:
    """GeoJSON from shapely uses tuples; JSON consumers and comparisons want lists."""
    if isinstance(value, dict):
        return {key: _listify(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_listify(item) for item in value]
    return value


class _Fail:
    """Builds syntax errors for one source text, with an optional context prefix."""

    def __init__(self, text: str, context: str | None) -> None:
        self.text = text
        self.context = context

    def __call__(self, message: str, pos: int) -> QuerySyntaxError:
        if self.context:
            message = f"in {self.context}: {message}"
        return QuerySyntaxError(message, self.text, pos)


class _Parser:
    """Pratt parser over the token stream."""

    def __init__(self, text: str, start: int, end: int, fail: _Fail) -> None:
        self.tokens = list(_Lexer(text, start, end, fail).tokens())
        self.index = 0
        self.fail = fail

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def expect(self, kind: str) -> _Token:
        token = self.current
        if token.kind != kind:
            raise self._unexpected(token, f"expected '{kind}'")
        return self.advance()

    def parse(self) -> Node:
        if self.current.kind == "eof":
            raise self.fail("empty expression", self.current.pos)
        node = self.expression(0)
        token = self.current
        if token.kind != "eof":
            raise self._unexpected(token, "expected an operator or the end of the expression")
        return node

    def expression(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.current
            power = BINARY_OPERATORS.get(token.text) if token.kind == "ident" else None
            if power is None or power <= min_power:
                return left
            self.advance()
            right = self.expression(power)
            left = BinaryOp(token.text, left, right, token.pos)

    def prefix(self) -> Node:
        token = self.advance()
        kind = token.kind
        if kind in ("number", "string", "literal"):
            return Literal(token.value, token.pos)  # type: ignore[arg-type]
        if kind == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        if kind == "-":
            operand = self.expression(_UNARY_POWER)
            if isinstance(operand, Literal) and type(operand.value) in (int, float):
                return Literal(-operand.value, token.pos)  # type: ignore[operator]
            return UnaryOp("-", operand, token.pos)
        if kind == "ident":
            return self.word(token)
        if kind == "eof":
            raise self.fail("unexpected end of expression", token.pos)
        raise self._unexpected(token, "expected a value")

    def word(self, token: _Token) -> Node:
        text = token.text
        if text == "not":
            # As clients write it: "not a eq b" negates the comparison, not the operand a.
            return UnaryOp("not", self.expression(BINARY_OPERATORS["and"]), token.pos)
        if text in _LITERAL_WORDS:
            return Literal(_LITERAL_WORDS[text], token.pos)
        if text in BINARY_OPERATORS:
            raise self.fail(f"missing operand before '{text}'", token.pos)
        if self.current.kind == "(":
            return self.call(token)
        return self.path(token)

    def call(self, name_token: _Token) -> Call:
        name = name_token.text.lower()
        arity = FUNCTIONS.get(name)
        if arity is None:
            raise self.fail(f"unknown function '{name_token.text}'", name_token.pos)
        self.expect("(")
        args: list[Node] = []
        if self.current.kind != ")":
            args.append(self.expression(0))
            while self.current.kind == ",":
                self.advance()
                args.append(self.expression(0))
        if self.current.kind != ")":
            raise self._unexpected(self.current, "expected ',' or ')'")
        self.advance()
        low, high = arity
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            plural = "" if expected == "1" else "s"
            raise self.fail(
                f"function '{name}' takes {expected} argument{plural}, got {len(args)}",
                name_token.pos,
            )
        return Call(name, tuple(args), name_token.pos)

    def path(self, first: _Token) -> Path:
        segments: list[str | int] = [first.text]
        while True:
            token = self.current
            if token.kind == "/":
                self.advance()
                segment = self.advance()
                if segment.kind != "ident":
                    raise self._unexpected(segment, "expected a property name after '/'")
                segments.append(segment.text)
            elif token.kind == "[":
                self.advance()
                index = self.advance()
                if index.kind != "number" or not isinstance(index.value, int):
                    raise self._unexpected(index, "expected an array index")
                self.expect("]")
                segments.append(index.value)
            else:
                return Path(tuple(segments), first.pos)

    def _unexpected(self, token: _Token, expectation: str) -> QuerySyntaxError:
        if token.kind == "eof":
            return self.fail(f"unexpected end of expression, {expectation}", token.pos)
        if token.kind == "ident" and _is_keyword(token.text.lower()):
            lower = token.text.lower()
            if lower != token.text:
                return self.fail(
                    f"unknown operator '{token.text}'; operators are lowercase, use '{lower}'",
                    token.pos,
                )
        if token.kind == "-":
            return self.fail("unexpected '-'; use 'sub' for subtraction", token.pos)
        return self.fail(f"unexpected '{token.text}', {expectation}", token.pos)


def parse_expression(
    text: str, *, start: int = 0, end: int | None = None, context: str | None = None
) -> Node:
    """Parse an OData boolean or value expression into a syntax tree.

    ``start``/``end`` select a slice of ``text`` to parse while keeping node positions and
    error positions relative to the whole ``text``; query options nested inside ``$expand``
    use this to point into the option value the client actually wrote. ``context`` (such as
    ``"$filter"``) prefixes error messages.
    """
    stop = len(text) if end is None else end
    fail = _Fail(text, context)
    return _Parser(text, start, stop, fail).parse()
