"""Who may read what: the one rule, applied inside every query of every face.

Data lives in datasets; a dataset is public or restricted. A reader sees public datasets,
data in no dataset, and the restricted datasets it may read (an admin token: all of them;
a token bound to a dataset: that one). Everything else is as if it did not exist.

A request first asks which datasets are hidden from its reader (``hidden_datasets``, one
small query); the faces then add ``visible(...)`` conditions to their statements. With no
restricted dataset hidden — the common case — no condition is added at all, so the rule
costs public hubs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select

from cityhub.store import schema

PUBLIC, RESTRICTED = "public", "restricted"
VISIBILITIES = (PUBLIC, RESTRICTED)


@dataclass(frozen=True)
class Reader:
    """What one reader may see beyond public data."""

    everything: bool = False
    datasets: frozenset[int] = frozenset()


ANYONE = Reader()
EVERYTHING = Reader(everything=True)


@dataclass(frozen=True)
class Hidden:
    """The ids of the datasets hidden from one reader, for the duration of one request."""

    datasets: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.datasets)


NOTHING_HIDDEN = Hidden()


def hidden_datasets(connection: Connection, reader: Reader) -> Hidden:
    """The restricted datasets ``reader`` may not read."""
    if reader.everything:
        return NOTHING_HIDDEN
    table = schema.datasets
    statement = select(table.c.id).where(table.c.visibility == RESTRICTED)
    if reader.datasets:
        statement = statement.where(table.c.id.not_in(sorted(reader.datasets)))
    return Hidden(frozenset(connection.scalars(statement)))


def in_visible_dataset(dataset_id: ColumnElement[Any], hidden: Hidden) -> ColumnElement[bool]:
    """``dataset_id`` (a column that may be NULL: in no dataset) is not a hidden dataset."""
    return or_(dataset_id.is_(None), dataset_id.not_in(sorted(hidden.datasets)))
