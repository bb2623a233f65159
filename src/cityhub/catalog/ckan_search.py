"""``package_search`` over the records: CKAN's parameters (``q``, ``fq``, ``sort``,
``rows``, ``start``, ``facet.field``) with the meaning Solr gives them in CKAN, for the fields
harvesters and clients filter on.

The public catalog of a city is hundreds to a few thousand datasets: its records are read in
a handful of queries and searched here, which keeps one behaviour on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cityhub.catalog.ckan import group_name, licence_id
from cityhub.catalog.records import Record
from cityhub.errors import ApiError

MAX_ROWS = 1000
FACET_LIMIT = 50
_WORD = re.compile(r"\w+")
#: The fields ``fq`` (and ``q``) filter on, and each record's values of the field.
FIELDS: dict[str, Callable[[Record, dict[str, Any]], list[str]]] = {
    "tags": lambda record, _: record.keywords,
    "organization": lambda record, _: [record.organization.slug] if record.organization else [],
    "groups": lambda record, _: [group_name(theme) for theme in record.themes],
    "res_format": lambda _, package: sorted({r["format"] for r in package["resources"]}),
    "license_id": lambda record, _: [licence_id(record.licence)],
    "name": lambda record, _: [record.slug],
}
_SORTS: dict[str, Callable[[Record], Any]] = {
    "metadata_modified": lambda record: record.modified,
    "metadata_created": lambda record: record.created,
    "title_string": lambda record: record.title.casefold(),
    "name": lambda record: record.slug,
}


class SearchQueryError(ApiError):
    """CKAN's answer to a query Solr would not parse (409, "Search Query Error")."""

    status = 409


@dataclass
class Search:
    q: str = ""
    fq: list[tuple[str, str]] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    rows: int = 10
    start: int = 0
    facets: list[str] = field(default_factory=list)
    facet_limit: int = FACET_LIMIT


def clauses(text: str, where: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``field:value`` clauses (values may be quoted) and the remaining free words."""
    try:
        parts = shlex.split(text.replace("+", " "))
    except ValueError as exc:
        raise SearchQueryError(f"cannot parse {where}: {exc}") from None
    found, words = [], []
    for part in parts:
        if part in ("AND", "&&"):
            continue
        name, colon, value = part.partition(":")
        if colon and name not in ("*",):
            if name not in FIELDS:
                known = ", ".join(FIELDS)
                raise SearchQueryError(f"cannot search {where} by '{name}'; use one of {known}")
            found.append((name, value.strip('"')))
        elif part != "*:*":
            words.append(part)
    return found, words


def parse_sort(text: str | None) -> list[tuple[str, bool]]:
    if not text:
        return [("score", True), ("metadata_modified", True)]
    found = []
    for part in text.split(","):
        name, _, direction = part.strip().partition(" ")
        direction = direction.strip().lower() or "asc"
        if (name not in _SORTS and name != "score") or direction not in ("asc", "desc"):
            raise SearchQueryError(
                f"cannot sort by '{part.strip()}'; use e.g. 'metadata_modified desc' or "
                f"'title_string asc' ({', '.join(_SORTS)})"
            )
        found.append((name, direction == "desc"))
    return found


def search(
    search: Search, records: list[Record], packages: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """CKAN's ``package_search`` result over ``records`` (with their package dicts)."""
    filters, words = clauses(search.q, "q")
    filters += search.fq
    terms = [word.casefold() for word in words]
    matched: list[tuple[int, Record]] = []
    for record in records:
        package = packages[record.slug]
        if not all(value in FIELDS[name](record, package) for name, value in filters):
            continue
        score = _score(record, terms)
        if terms and score == 0:
            continue
        matched.append((score, record))
    for name, descending in reversed(search.sort):
        key: Callable[[tuple[int, Record]], Any] = (
            (lambda pair: pair[0]) if name == "score" else (lambda pair, n=name: _SORTS[n](pair[1]))
        )
        matched.sort(key=key, reverse=descending)
    page = matched[search.start : search.start + search.rows]
    return {
        "count": len(matched),
        "results": [packages[record.slug] for _, record in page],
        "sort": ", ".join(f"{name} {'desc' if d else 'asc'}" for name, d in search.sort),
        **_facets(search, [record for _, record in matched], packages),
    }


def _score(record: Record, terms: list[str]) -> int:
    """How many of the terms the dataset's title, description and keywords hold; 0 unless
    all of them (CKAN's default operator is AND)."""
    if not terms:
        return 1
    words = Counter(
        _WORD.findall(" ".join([record.title, record.description, *record.keywords]).casefold())
    )
    hits = [sum(n for word, n in words.items() if word.startswith(term)) for term in terms]
    return sum(hits) if all(hits) else 0


def _facets(
    search: Search, matched: list[Record], packages: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for name in search.facets:
        if name not in FIELDS:
            raise SearchQueryError(f"no facet '{name}'; use one of {', '.join(FIELDS)}")
        counts = Counter(
            value for record in matched for value in FIELDS[name](record, packages[record.slug])
        )
        top = counts.most_common(search.facet_limit)
        facets[name] = dict(top)
        search_facets[name] = {
            "title": name,
            "items": [{"name": v, "display_name": v, "count": n} for v, n in top],
        }
    return {"facets": facets, "search_facets": search_facets}
