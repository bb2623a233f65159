"""The CQL2 JSON encoding (``filter-lang=cql2-json``) parsed into the syntax tree.

The document is already decoded JSON (``{"op": "and", "args": [...]}``). Errors are
``BadRequest``s naming the JSON pointer of the offending member, e.g. ``/args/1/args/0``.
"""

from __future__ import annotations

from typing import Any

from cityhub.errors import BadRequest
from cityhub.features.cql2 import literals
from cityhub.features.cql2.nodes import (
    ARITHMETIC,
    COMPARISONS,
    SPATIAL,
    TEMPORAL,
    DateLiteral,
    Geometry,
    Interval,
    ListOf,
    Literal,
    Node,
    Op,
    Property,
    Timestamp,
    fixed_arity,
)

__all__ = ["parse_json"]

_OPS = frozenset(
    {
        *COMPARISONS,
        *ARITHMETIC,
        *SPATIAL,
        *TEMPORAL,
        "and",
        "or",
        "not",
        "like",
        "between",
        "in",
        "isNull",
        "casei",
        "accenti",
        "s_dwithin",
    }
)


def _fail(message: str, path: str) -> BadRequest:
    return BadRequest(f"invalid CQL2 JSON at {path or '/'}: {message}")


def _node(value: Any, path: str, depth: int) -> Node:
    if depth > literals.MAX_DEPTH:
        raise _fail("filter nested too deeply", path)
    at = path or "/"
    if isinstance(value, bool):
        return Literal(value, at)
    if isinstance(value, str):
        return Literal(_checked(literals.string, value, path), at)
    if isinstance(value, int | float):
        return Literal(_checked(literals.number, value, path), at)
    if isinstance(value, dict):
        return _object(value, path, depth)
    if isinstance(value, list):
        raise _fail("a list is only allowed as the second argument of 'in'", path)
    if value is None:
        raise _fail('null is no CQL2 value; test for it with {"op": "isNull", ...}', path)
    raise _fail(f"unexpected {type(value).__name__}", path)


def _checked(check: Any, value: Any, path: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise _fail(str(exc), path) from None


def _object(value: dict[str, Any], path: str, depth: int) -> Node:
    at = path or "/"
    if "op" in value:
        return _operation(value, path, depth)
    if "property" in value:
        name = value["property"]
        if not isinstance(name, str) or not name:
            raise _fail("a property name is a non-empty string", f"{path}/property")
        return Property(_checked(literals.string, name, path), at)
    if "timestamp" in value or "date" in value:
        return _instant(value, path)
    if "interval" in value:
        return _interval(value["interval"], f"{path}/interval")
    if "bbox" in value:
        box = value["bbox"]
        if not isinstance(box, list):
            raise _fail("a bbox is a list of 4 or 6 numbers", f"{path}/bbox")
        return Geometry(_checked(literals.bbox, box, f"{path}/bbox"), at)
    if "type" in value:
        return Geometry(_checked(literals.geojson, value, path), at)
    raise _fail(
        "expected an object with 'op' and 'args', 'property', 'timestamp', 'date', "
        "'interval', 'bbox' or a GeoJSON geometry",
        path,
    )


def _instant(value: dict[str, Any], path: str) -> Timestamp | DateLiteral:
    kind = "timestamp" if "timestamp" in value else "date"
    text = value[kind]
    where = f"{path}/{kind}"
    if not isinstance(text, str):
        raise _fail(f"a {kind} is a string", where)
    if kind == "timestamp":
        return Timestamp(_checked(literals.timestamp, text, where), path or "/")
    return DateLiteral(_checked(literals.day, text, where), path or "/")


def _interval(ends: Any, path: str) -> Interval:
    if not isinstance(ends, list) or len(ends) != 2:
        raise _fail("an interval is a list of two instants ('..' for an open end)", path)
    bounds: list[Timestamp | DateLiteral | None] = []
    for index, end in enumerate(ends):
        where = f"{path}/{index}"
        if end == "..":
            bounds.append(None)
        elif isinstance(end, str):
            kind = "date" if len(end) == 10 else "timestamp"
            bounds.append(_instant({kind: end}, where))
        elif isinstance(end, dict) and ("timestamp" in end or "date" in end):
            bounds.append(_instant(end, where))
        else:
            raise _fail("an interval end is a date or timestamp string, or '..'", where)
    return Interval(bounds[0], bounds[1], path)


def _operation(value: dict[str, Any], path: str, depth: int) -> Node:
    op, args = value["op"], value.get("args")
    if not isinstance(op, str) or op not in _OPS:
        known = ", ".join(sorted(_OPS))
        raise _fail(f"unknown operator {op!r}; known: {known}", f"{path}/op")
    if not isinstance(args, list):
        raise _fail(f"'{op}' needs a list 'args'", f"{path}/args")
    arity = fixed_arity(op)
    if arity is None and len(args) < 2:
        raise _fail(f"'{op}' takes 2 or more arguments, got {len(args)}", f"{path}/args")
    if arity is not None and len(args) != arity:
        raise _fail(f"'{op}' takes {arity} arguments, got {len(args)}", f"{path}/args")
    nodes = [_argument(op, i, arg, f"{path}/args/{i}", depth) for i, arg in enumerate(args)]
    if op in ("and", "or"):
        return literals.logical(op, nodes, path or "/")
    return Op(op, tuple(nodes), path or "/")


def _argument(op: str, index: int, arg: Any, path: str, depth: int) -> Node:
    if op == "in" and index == 1:
        if not isinstance(arg, list) or not arg:
            raise _fail("the second argument of 'in' is a non-empty list", path)
        items = (_node(item, f"{path}/{i}", depth + 1) for i, item in enumerate(arg))
        return ListOf(tuple(items), path)
    return _node(arg, path, depth + 1)


def parse_json(document: Any) -> Node:
    """Parse a decoded CQL2 JSON filter; a ``BadRequest`` (400) names what is wrong where."""
    return _node(document, "", 0)
