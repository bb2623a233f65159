"""The CQL2 syntax tree, one for the text and the JSON encoding.

Both parsers build the same frozen dataclasses, so a filter means the same whichever way a
client wrote it. Operators and functions are all ``Op`` nodes named as the JSON encoding names
them (``"and"``, ``"="``, ``"like"``, ``"isNull"``, ``"s_intersects"``, ``"t_during"``…).
``at`` says where a node came from, for error messages: ``"position 12"`` in a text filter,
``"/args/1"`` in a JSON one; it takes no part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = [
    "ARITHMETIC",
    "COMPARISONS",
    "SPATIAL",
    "TEMPORAL",
    "DateLiteral",
    "Geometry",
    "Interval",
    "ListOf",
    "Literal",
    "Node",
    "Op",
    "Property",
    "Timestamp",
    "fixed_arity",
]

COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
ARITHMETIC = ("+", "-", "*", "/", "%", "div", "^")
SPATIAL = (
    "s_intersects",
    "s_equals",
    "s_disjoint",
    "s_touches",
    "s_within",
    "s_overlaps",
    "s_crosses",
    "s_contains",
)
TEMPORAL = (
    "t_after",
    "t_before",
    "t_contains",
    "t_disjoint",
    "t_during",
    "t_equals",
    "t_finishedby",
    "t_finishes",
    "t_intersects",
    "t_meets",
    "t_metby",
    "t_overlappedby",
    "t_overlaps",
    "t_startedby",
    "t_starts",
)

_ARITY: dict[str, int] = {
    **dict.fromkeys(COMPARISONS, 2),
    **dict.fromkeys(ARITHMETIC, 2),
    **dict.fromkeys(SPATIAL, 2),
    **dict.fromkeys(TEMPORAL, 2),
    "not": 1,
    "like": 2,
    "between": 3,
    "in": 2,
    "isNull": 1,
    "casei": 1,
    "accenti": 1,
    "s_dwithin": 4,
}


def fixed_arity(op: str) -> int | None:
    """How many arguments ``op`` takes; None for ``and``/``or`` (two or more) and unknowns."""
    return _ARITY.get(op)


@dataclass(frozen=True)
class Property:
    """A queryable, by name (``"Straße"`` in the text encoding keeps its quotes off)."""

    name: str
    at: str = field(default="", compare=False)


@dataclass(frozen=True)
class Literal:
    """A string, number or boolean."""

    value: str | int | float | bool
    at: str = field(default="", compare=False)


@dataclass(frozen=True)
class Timestamp:
    """``TIMESTAMP('…')`` / ``{"timestamp": "…"}``: an aware UTC instant."""

    value: datetime
    at: str = field(default="", compare=False)


@dataclass(frozen=True)
class DateLiteral:
    """``DATE('…')`` / ``{"date": "…"}``: a calendar day."""

    value: date
    at: str = field(default="", compare=False)


@dataclass(frozen=True)
class Interval:
    """``INTERVAL('…', '…')``; an open end (``'..'``) is None."""

    start: Timestamp | DateLiteral | None
    end: Timestamp | DateLiteral | None
    at: str = field(default="", compare=False)


@dataclass(frozen=True)
class Geometry:
    """A geometry literal (WKT, ``BBOX(…)`` or GeoJSON), held as GeoJSON in WGS 84."""

    geojson: dict[str, Any]
    at: str = field(default="", compare=False)

    def __hash__(self) -> int:  # GeoJSON holds lists
        return hash(repr(self.geojson))


@dataclass(frozen=True)
class ListOf:
    """The list of an ``IN`` predicate."""

    items: tuple[Node, ...]
    at: str = field(default="", compare=False)


@dataclass(frozen=True)
class Op:
    """An operator or function applied to its arguments (``and``/``or`` are flattened)."""

    op: str
    args: tuple[Node, ...]
    at: str = field(default="", compare=False)


Node = Property | Literal | Timestamp | DateLiteral | Interval | Geometry | ListOf | Op
