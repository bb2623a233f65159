"""CQL2 temporal functions: Allen's interval relations over (start, end) pairs.

An instant is an interval whose start and end are the same, so every function takes
instants and intervals alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_

Bounds = tuple[Any, Any]

RELATIONS: dict[str, Callable[[Any, Any, Any, Any], Any]] = {
    "t_after": lambda a0, a1, b0, b1: a0 > b1,
    "t_before": lambda a0, a1, b0, b1: a1 < b0,
    "t_contains": lambda a0, a1, b0, b1: and_(a0 < b0, a1 > b1),
    "t_disjoint": lambda a0, a1, b0, b1: or_(a1 < b0, a0 > b1),
    "t_during": lambda a0, a1, b0, b1: and_(a0 > b0, a1 < b1),
    "t_equals": lambda a0, a1, b0, b1: and_(a0 == b0, a1 == b1),
    "t_finishedby": lambda a0, a1, b0, b1: and_(a0 < b0, a1 == b1),
    "t_finishes": lambda a0, a1, b0, b1: and_(a0 > b0, a1 == b1),
    "t_intersects": lambda a0, a1, b0, b1: and_(a0 <= b1, a1 >= b0),
    "t_meets": lambda a0, a1, b0, b1: a1 == b0,
    "t_metby": lambda a0, a1, b0, b1: a0 == b1,
    "t_overlappedby": lambda a0, a1, b0, b1: and_(a0 > b0, a0 < b1, a1 > b1),
    "t_overlaps": lambda a0, a1, b0, b1: and_(a0 < b0, a1 > b0, a1 < b1),
    "t_startedby": lambda a0, a1, b0, b1: and_(a0 == b0, a1 > b1),
    "t_starts": lambda a0, a1, b0, b1: and_(a0 == b0, a1 < b1),
}


def relation(op: str, first: Bounds, second: Bounds) -> Any:
    return RELATIONS[op](*first, *second)
