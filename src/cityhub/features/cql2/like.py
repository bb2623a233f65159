"""``LIKE`` with CQL2's ``%`` and ``_`` wildcards and ``\\`` escape, case-sensitive on both
backends: ``LIKE … ESCAPE`` on PostgreSQL, ``GLOB`` on SQLite (whose ``LIKE`` ignores case).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Text, literal, type_coerce

from cityhub.errors import BadRequest
from cityhub.features.cql2.nodes import Literal, Node, Op
from cityhub.sensorthings.operands import STRING, Value, expect
from cityhub.store import folding

_ANY, _ONE = object(), object()
_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


def like(value: Value, pattern: Node, at: str, backend: str) -> ColumnElement[bool]:
    """``value LIKE pattern``; the pattern is a string, maybe inside ``CASEI``/``ACCENTI``."""
    where = f"for LIKE at {at}"
    if value.type != STRING and value.type != "json":
        raise BadRequest(f"LIKE matches strings, got a {value.type} value ({where})")
    text = type_coerce(expect(value, STRING, where, backend), Text)
    parts = _parts(_pattern(pattern, where))
    if backend == "postgresql":
        return text.like(literal(_like_pattern(parts), Text), escape="\\")
    return text.op("GLOB", is_comparison=True)(literal(_glob_pattern(parts), Text))


def _pattern(node: Node, where: str) -> str:
    """The pattern text, folded as the ``CASEI``/``ACCENTI`` around it say."""
    if isinstance(node, Literal) and isinstance(node.value, str):
        return node.value
    if isinstance(node, Op) and node.op in (folding.CASEI, folding.ACCENTI):
        return str(folding.fold(_pattern(node.args[0], where), node.op))
    raise BadRequest(f"the pattern of LIKE is a string such as 'Haupt%' ({where})")


def _parts(pattern: str) -> list[Any]:
    """Characters and wildcards; ``\\`` makes the next character plain (a last one is plain)."""
    parts: list[Any] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(next(chars, "\\"))
        elif char == "%":
            parts.append(_ANY)
        elif char == "_":
            parts.append(_ONE)
        else:
            parts.append(char)
    return parts


def _like_pattern(parts: list[Any]) -> str:
    def render(part: Any) -> str:
        if part is _ANY:
            return "%"
        if part is _ONE:
            return "_"
        return "\\" + part if part in "%_\\" else part

    return "".join(render(part) for part in parts)


def _glob_pattern(parts: list[Any]) -> str:
    def render(part: Any) -> str:
        if part is _ANY:
            return "*"
        if part is _ONE:
            return "?"
        return _GLOB_SPECIAL.get(part, part)

    return "".join(render(part) for part in parts)
