"""Queryables: how a name in a filter reaches SQL, independent of any one table.

The caller (the ``/features`` face) resolves names; ``resolver`` builds the usual resolver
from a mapping and says which names exist when one does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cityhub.errors import BadRequest

STRING, NUMBER, BOOLEAN = "string", "number", "boolean"
TIMESTAMP, DATE = "timestamp", "date"
GEOMETRY, INTERVAL, MEMBER = "geometry", "interval", "member"
_COLUMN_TYPES = (STRING, NUMBER, BOOLEAN, TIMESTAMP, DATE)


@dataclass(frozen=True)
class Queryable:
    """One queryable as SQL; build it with the class methods.

    ``type`` is ``string``, ``number``, ``boolean``, ``timestamp``, ``date`` (text
    ``YYYY-MM-DD``) for plain columns, ``geometry`` for a WGS 84 geometry column, ``interval``
    for a start/end column pair (a NULL end: an instant) and ``member`` for a member of a JSON
    document, typed per comparison (numbers as numbers, strings as strings).
    """

    type: str
    sql: Any
    end: Any = None
    path: tuple[str | int, ...] = ()

    @classmethod
    def column(cls, sql: Any, type: str) -> Queryable:
        if type not in _COLUMN_TYPES:
            raise ValueError(f"a column queryable is one of {', '.join(_COLUMN_TYPES)}")
        return cls(type, sql)

    @classmethod
    def member(cls, document: Any, *path: str | int) -> Queryable:
        """The member at ``path`` of the JSON column ``document`` (``properties``)."""
        if not path:
            raise ValueError("a member queryable needs a path")
        return cls(MEMBER, document, path=tuple(path))

    @classmethod
    def geometry(cls, sql: Any) -> Queryable:
        return cls(GEOMETRY, sql)

    @classmethod
    def interval(cls, start: Any, end: Any) -> Queryable:
        return cls(INTERVAL, start, end)


class UnknownQueryable(BadRequest):
    """A name that is no queryable; ``known`` lists those that are."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown queryable '{name}'; the queryables are: {', '.join(known)}")
        self.name = name
        self.known = known


def resolver(queryables: Mapping[str, Queryable]) -> Callable[[str], Queryable]:
    """A resolver over a fixed set of queryables; other names raise ``UnknownQueryable``."""

    def resolve(name: str) -> Queryable:
        found = queryables.get(name)
        if found is None:
            raise UnknownQueryable(name, tuple(queryables))
        return found

    return resolve
