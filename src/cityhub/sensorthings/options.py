"""Parsing of SensorThings system query options (``$filter``, ``$expand`` …).

Options nested in ``$expand`` are parsed from slices of the ``$expand`` value, so every syntax
error points into the text the client actually sent. Option names are matched
case-insensitively, as OData 4.01 allows; values are case-sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlencode

from cityhub.errors import BadRequest, NotImplementedYet, QuerySyntaxError
from cityhub.sensorthings.odata import Node, parse_expression

__all__ = [
    "Expand",
    "OrderBy",
    "QueryOptions",
    "parse_expand",
    "parse_orderby",
    "parse_query_options",
    "parse_select",
    "query_params",
]


@dataclass(frozen=True)
class OrderBy:
    """One ``$orderby`` key."""

    expr: Node
    descending: bool = False


@dataclass(frozen=True)
class QueryOptions:
    """The system query options of one request, or of one ``$expand`` item."""

    top: int | None = None
    skip: int | None = None
    count: bool | None = None
    filter: Node | None = None
    orderby: tuple[OrderBy, ...] = ()
    select: tuple[tuple[str, ...], ...] | None = None
    expand: tuple[Expand, ...] = ()
    result_format: str | None = None
    # The text of each option as sent (by documented name), to write it into links again.
    texts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    @cached_property
    def link_query(self) -> str:
        """These options but ``$top``/``$skip``, URL-encoded for a link; computed once, as
        every parent of an expanded collection shares them."""
        return urlencode(query_params(self), safe=LINK_SAFE)


@dataclass(frozen=True)
class Expand:
    """A navigation path to expand, with the options applying to its last segment."""

    path: tuple[str, ...]
    options: QueryOptions = field(default_factory=QueryOptions)


@dataclass(frozen=True)
class _Span:
    """A slice ``text[start:end]`` of an option value, kept with the whole value for errors."""

    text: str
    start: int
    end: int
    context: str

    @property
    def value(self) -> str:
        return self.text[self.start : self.end]

    def strip(self) -> _Span:
        """Narrow the span to exclude surrounding whitespace."""
        start, end = self.start, self.end
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return replace(self, start=start, end=end)

    def error(self, message: str, pos: int | None = None) -> QuerySyntaxError:
        position = self.start if pos is None else pos
        return QuerySyntaxError(f"in {self.context}: {message}", self.text, position)


# Characters left readable in links, as clients and people write them.
LINK_SAFE = "$(),;/'"
_NAME = re.compile(r"(?:@|[^\W\d])[\w.]*")
_NAVIGATION = re.compile(r"[^\W\d]\w*")
_INTEGER = re.compile(r"[0-9]+")
_DIRECTION = re.compile(r"\s(asc|desc)\s*$")
_NESTED_NOT_ALLOWED = frozenset({"$resultformat"})


def _split(span: _Span, separator: str) -> list[_Span]:
    """Split on ``separator`` outside quotes and parentheses, checking that both balance."""
    parts: list[_Span] = []
    depth = 0
    quoted_at: int | None = None
    opened: list[int] = []
    begin = span.start
    for index in range(span.start, span.end):
        char = span.text[index]
        if quoted_at is not None:
            if char == "'":
                quoted_at = None  # a doubled quote simply re-opens on the next character
            continue
        if char == "'":
            quoted_at = index
        elif char == "(":
            depth += 1
            opened.append(index)
        elif char == ")":
            if depth == 0:
                raise span.error("unbalanced ')'", index)
            depth -= 1
            opened.pop()
        elif char == separator and depth == 0:
            parts.append(replace(span, start=begin, end=index))
            begin = index + 1
    if quoted_at is not None:
        raise span.error("unterminated string", quoted_at)
    if opened:
        raise span.error("missing ')'", opened[-1])
    parts.append(replace(span, start=begin, end=span.end))
    return parts


def _items(span: _Span, separator: str, what: str) -> list[_Span]:
    """Non-empty, whitespace-trimmed items of a separated list."""
    items = [part.strip() for part in _split(span, separator)]
    for item in items:
        if item.start == item.end:
            raise span.error(f"empty {what}", item.start)
    return items


def _orderby(span: _Span) -> tuple[OrderBy, ...]:
    keys: list[OrderBy] = []
    for item in _items(span, ",", "$orderby item"):
        end, descending = item.end, False
        direction = _DIRECTION.search(item.value)
        if direction:
            end = item.start + direction.start()
            descending = direction.group(1) == "desc"
        expr = parse_expression(item.text, start=item.start, end=end, context=item.context)
        keys.append(OrderBy(expr, descending))
    return tuple(keys)


def _select(span: _Span) -> tuple[tuple[str, ...], ...]:
    paths: list[tuple[str, ...]] = []
    for item in _items(span, ",", "$select item"):
        segments: list[str] = []
        for segment in _items(item, "/", "property name"):
            if not _NAME.fullmatch(segment.value):
                raise segment.error(f"invalid property name {segment.value!r}", segment.start)
            segments.append(segment.value)
        paths.append(tuple(segments))
    return tuple(paths)


def _expand(span: _Span) -> tuple[Expand, ...]:
    expands: list[Expand] = []
    for item in _items(span, ",", "$expand item"):
        open_at = item.text.find("(", item.start, item.end)
        path_span = replace(item, end=open_at) if open_at >= 0 else item
        path: list[str] = []
        for segment in _items(path_span.strip(), "/", "navigation property"):
            if segment.value == "*":
                raise NotImplementedYet("$expand=* is not supported; name the entities to expand")
            if not _NAVIGATION.fullmatch(segment.value):
                raise segment.error(f"invalid navigation property {segment.value!r}", segment.start)
            path.append(segment.value)
        options = QueryOptions()
        if open_at >= 0:
            close_at = _matching_paren(item, open_at)
            if close_at != item.end - 1:
                raise item.error("unexpected text after ')'", close_at + 1)
            inner = replace(item, start=open_at + 1, end=close_at)
            options = _nested_options(inner)
        expands.append(Expand(tuple(path), options))
    return tuple(expands)


def _matching_paren(span: _Span, open_at: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``open_at``; balance was checked by _split."""
    depth = 0
    quoted = False
    for index in range(open_at, span.end):
        char = span.text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise span.error("missing ')'", open_at)  # pragma: no cover - _split guarantees balance


def _nested_options(span: _Span) -> QueryOptions:
    """Options inside ``$expand=Nav(...)``, separated by ``;``."""
    pairs: list[tuple[str, _Span]] = []
    if not span.strip().value:
        raise span.error("empty option list in '()'", span.start)
    for item in _items(span, ";", "option"):
        equals = item.text.find("=", item.start, item.end)
        if equals < 0:
            raise item.error(f"expected name=value, got {item.value!r}", item.start)
        name = item.text[item.start : equals].strip()
        if not name.startswith("$"):
            raise item.error(f"only system query options are allowed, got {name!r}", item.start)
        if name.lower() in _NESTED_NOT_ALLOWED:
            raise BadRequest(f"in {span.context}: {name} is not allowed inside $expand")
        pairs.append((name, replace(item, start=equals + 1)))
    return _collect(pairs)


def _non_negative(name: str) -> Callable[[_Span], int]:
    def parse(span: _Span) -> int:
        value = span.value
        if not _INTEGER.fullmatch(value):
            raise BadRequest(
                f"{_where(span, name)}{name} must be a non-negative integer, got {value!r}"
            )
        number = int(value)
        if number >= 2**63:
            raise BadRequest(f"{_where(span, name)}{name} is too large: {value}")
        return number

    return parse


def _count(span: _Span) -> bool:
    value = span.value
    if value not in ("true", "false"):
        raise BadRequest(f"{_where(span, '$count')}$count must be 'true' or 'false', got {value!r}")
    return value == "true"


def _filter(span: _Span) -> Node:
    return parse_expression(span.text, start=span.start, end=span.end, context=span.context)


def _result_format(span: _Span) -> str:
    value = span.value.strip()
    if not value:
        raise BadRequest("$resultFormat must not be empty")
    return value


def _where(span: _Span, name: str) -> str:
    """Prefix naming the enclosing option when ``name`` is nested in another one."""
    return "" if span.context == name else f"in {span.context}: "


# Lowercased option name -> (name as documented, QueryOptions field, value parser).
_OPTIONS: dict[str, tuple[str, str, Callable[[_Span], object]]] = {
    "$top": ("$top", "top", _non_negative("$top")),
    "$skip": ("$skip", "skip", _non_negative("$skip")),
    "$count": ("$count", "count", _count),
    "$filter": ("$filter", "filter", _filter),
    "$orderby": ("$orderby", "orderby", _orderby),
    "$select": ("$select", "select", _select),
    "$expand": ("$expand", "expand", _expand),
    "$resultformat": ("$resultFormat", "result_format", _result_format),
}


def _collect(pairs: Iterable[tuple[str, _Span]]) -> QueryOptions:
    """Validate names, reject repeats and parse each value into its QueryOptions field."""
    values: dict[str, object] = {}
    texts: dict[str, str] = {}
    for name, span in pairs:
        known = _OPTIONS.get(name.lower())
        if known is None:
            raise NotImplementedYet(f"the system query option {name} is not supported")
        canonical, attribute, parse = known
        if attribute in values:
            raise BadRequest(f"{_where(span, canonical)}{canonical} given more than once")
        values[attribute] = parse(span)
        texts[canonical] = span.strip().value
    return QueryOptions(**values, texts=MappingProxyType(texts))  # type: ignore[arg-type]


def query_params(options: QueryOptions) -> list[tuple[str, str]]:
    """The options but ``$top``/``$skip`` as query parameters, e.g. for an expanded nextLink.

    ``$expand`` is written from the parsed items, so merged expands (``Datastreams,
    Datastreams/Sensor``) come out whole; the others as the client sent them.
    """
    return _params(options, skip_paging=True)


def _params(options: QueryOptions, skip_paging: bool) -> list[tuple[str, str]]:
    left_out = ("$expand", "$top", "$skip") if skip_paging else ("$expand",)
    params = [(name, text) for name, text in options.texts.items() if name not in left_out]
    if options.expand:
        params.append(("$expand", ",".join(_expand_text(item) for item in options.expand)))
    return params


def _expand_text(item: Expand) -> str:
    path = "/".join(item.path)
    inner = ";".join(f"{name}={text}" for name, text in _params(item.options, skip_paging=False))
    return f"{path}({inner})" if inner else path


def parse_query_options(params: Iterable[tuple[str, str]]) -> QueryOptions:
    """Parse URL-decoded query parameters; names without ``$`` are custom and ignored."""
    pairs: list[tuple[str, _Span]] = []
    for name, value in params:
        if not name.startswith("$"):
            continue
        canonical = _OPTIONS.get(name.lower(), (name,))[0]
        pairs.append((name, _Span(value, 0, len(value), canonical)))
    return _collect(pairs)


def parse_expand(text: str) -> tuple[Expand, ...]:
    """Parse a ``$expand`` value such as ``Datastreams($top=2;$expand=Observations),Thing``."""
    return _expand(_Span(text, 0, len(text), "$expand"))


def parse_orderby(text: str) -> tuple[OrderBy, ...]:
    """Parse a ``$orderby`` value: comma-separated expressions, each optionally asc/desc."""
    return _orderby(_Span(text, 0, len(text), "$orderby"))


def parse_select(text: str) -> tuple[tuple[str, ...], ...]:
    """Parse a ``$select`` value into property paths split on ``/``."""
    return _select(_Span(text, 0, len(text), "$select"))
