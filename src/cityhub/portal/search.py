"""Search across datasets, collections, Things and features, with the access rule applied.

Matching is a substring test on names and descriptions that ignores case and accents ("ö"
finds "Ö", "grafrath" finds "Gräfrath"), done by the database with the same folding tables
on either backend (``store.folding``).
Ranking is simple and predictable: a name equal to the query first, then names starting
with it, then names containing it, then matches in the description only; within a rank,
datasets before collections before Things before features, then by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, cast, func, or_, select

from cityhub.errors import BadRequest
from cityhub.store import schema
from cityhub.store.access import Hidden, in_visible_dataset
from cityhub.store.folding import ACCENTI, CASEI, fold, fold_sql

KINDS = ("dataset", "collection", "thing", "feature")
MAX_QUERY = 200
#: Most hits read per kind; the page shows the best ``limit`` of all kinds.
PER_KIND = 200


@dataclass(frozen=True)
class Hit:
    kind: str
    name: str
    description: str
    path: str  # the portal page, relative to the hub's root
    rank: int

    def json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "path": self.path,
        }


def clean_query(text: str | None) -> str:
    query = " ".join((text or "").split())
    if "\x00" in query:
        raise BadRequest("q must not contain NUL characters")
    if len(query) > MAX_QUERY:
        raise BadRequest(f"q is at most {MAX_QUERY} characters long")
    return query


def search(connection: Connection, query: str, hidden: Hidden, limit: int) -> list[Hit]:
    """The best ``limit`` hits for ``query`` (already cleaned; empty finds nothing)."""
    if not query:
        return []
    needle = _folded(query)
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    like = partial(_like, backend=connection.dialect.name)
    hits: list[Hit] = []
    for kind, statement in _statements(pattern, hidden, like):
        for row in connection.execute(statement.limit(PER_KIND)).mappings():
            name = str(row["name"] or "")
            hits.append(
                Hit(kind, name, row["description"] or "", _path(kind, row), _rank(name, needle))
            )
    hits.sort(key=lambda hit: (hit.rank, KINDS.index(hit.kind), _folded(hit.name), hit.path))
    return hits[:limit]


def _folded(text: str) -> str:
    return fold(fold(text, CASEI), ACCENTI)


def _rank(name: str, needle: str) -> int:
    lowered = _folded(name)
    if lowered == needle:
        return 0
    if lowered.startswith(needle):
        return 1
    return 2 if needle in lowered else 3


def _like(column: ColumnElement[Any], pattern: str, backend: str) -> ColumnElement[bool]:
    folded = fold_sql(fold_sql(column, CASEI, backend), ACCENTI, backend)
    return folded.like(pattern, escape="\\")


def _statements(pattern: str, hidden: Hidden, like: Callable[..., Any]) -> list[tuple[str, Any]]:
    datasets, collections = schema.datasets, schema.collections
    things, features = schema.things, schema.features
    found = []
    dataset_query = select(
        datasets.c.slug, datasets.c.title.label("name"), datasets.c.description
    ).where(or_(like(datasets.c.title, pattern), like(datasets.c.description, pattern)))
    found.append(("dataset", _visible(dataset_query, datasets.c.id, hidden)))
    collection_query = select(
        collections.c.slug, collections.c.title.label("name"), collections.c.description
    ).where(
        or_(
            like(collections.c.title, pattern),
            like(collections.c.slug, pattern),
            like(func.coalesce(collections.c.description, ""), pattern),
        )
    )
    found.append(("collection", _visible(collection_query, collections.c.dataset_id, hidden)))
    thing_query = select(things.c.id, things.c.name, things.c.description).where(
        or_(like(things.c.name, pattern), like(things.c.description, pattern))
    )
    found.append(("thing", _visible(thing_query, things.c.dataset_id, hidden)))
    name = func.coalesce(features.c.properties["name"].as_string(), features.c.key, "")
    feature_query = (
        select(
            features.c.id,
            cast(name, String).label("name"),
            collections.c.slug,
            collections.c.title.label("description"),
        )
        .select_from(features.join(collections, collections.c.id == features.c.collection_id))
        .where(features.c.gone_at.is_(None), like(name, pattern))
    )
    found.append(("feature", _visible(feature_query, collections.c.dataset_id, hidden)))
    return found


def _visible(query: Any, dataset_id: ColumnElement[Any], hidden: Hidden) -> Any:
    """``query`` kept to rows of datasets the reader may see (the access rule)."""
    return query.where(in_visible_dataset(dataset_id, hidden)) if hidden else query


def _path(kind: str, row: Any) -> str:
    if kind == "dataset":
        return f"/datasets/{row['slug']}"
    if kind == "collection":
        return f"/collections/{row['slug']}"
    if kind == "thing":
        return f"/things/{row['id']}"
    return f"/collections/{row['slug']}/{row['id']}"
