"""Reading entities: resolving resource paths, collections with query options, ``$expand``.

Every function takes a ``Connection`` and runs inside the caller's read transaction, so one
request sees one consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import orjson
from orjson import Fragment
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    FromClause,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    select,
    true,
    type_coerce,
)

from cityhub.errors import BadRequest, NotFound
from cityhub.sensorthings import statistics
from cityhub.sensorthings.filters import Translator
from cityhub.sensorthings.joins import members_of
from cityhub.sensorthings.model import ENTITY_TYPES, EntityType, Relation, target_of
from cityhub.sensorthings.options import Expand, QueryOptions
from cityhub.sensorthings.resource import ResourcePath
from cityhub.sensorthings.visibility import visible
from cityhub.store.access import NOTHING_HIDDEN, Hidden
from cityhub.store.types import UTCDateTime

#: Parents per query when expanding a to-many relation.
_EXPAND_CHUNK = 500


@dataclass(frozen=True)
class Paging:
    """How one request reads: its page sizes, and the datasets hidden from its reader
    (``visibility``), which every statement of the read keeps out."""

    default_top: int
    max_top: int
    hidden: Hidden = NOTHING_HIDDEN

    def for_reader(self, hidden: Hidden) -> Paging:
        return self if hidden == self.hidden else replace(self, hidden=hidden)

    def top(self, options: QueryOptions) -> int:
        return min(self.default_top if options.top is None else options.top, self.max_top)


@dataclass(slots=True)
class Record:
    """One entity row with what was expanded beneath it."""

    row: Mapping[str, Any]
    expanded: list[Expanded] = field(default_factory=list)


@dataclass(slots=True)
class Expanded:
    relation: Relation
    options: QueryOptions
    items: list[Record]
    count: int | None = None
    more: bool = False


@dataclass
class Page:
    records: list[Record]
    count: int | None
    more: bool


class PageRequest(NamedTuple):
    """A request for one page of a collection, as the readers that answer some of them in
    their own way (``latest_page``, ``data_array``) take it."""

    connection: Connection
    backend: str
    target: Target
    options: QueryOptions
    paging: Paging
    url: str


@dataclass(frozen=True)
class Target:
    """What a resource path addresses: one entity (``id``), or a collection (its conditions,
    and the order it is listed in without ``$orderby``, if it has one of its own)."""

    entity: EntityType
    conditions: tuple[ColumnElement[bool], ...]
    id: int | None = None
    order: tuple[Any, ...] = ()
    #: For a collection reached from a parent (``Datastreams(1)/Observations``): which.
    members: tuple[Relation, int] | None = None

    @property
    def single(self) -> bool:
        return self.id is not None


def resolve(connection: Connection, path: ResourcePath, hidden: Hidden = NOTHING_HIDDEN) -> Target:
    """Walk the path, checking every addressed entity exists and is visible (404 otherwise).
    A to-one step needs no check: what a visible entity belongs to is visible."""
    current: tuple[EntityType, int] | None = None
    for step in path.steps:
        table = step.entity.table
        order: tuple[Any, ...] = ()
        members: tuple[Relation, int] | None = None
        if current is None:
            conditions: list[ColumnElement[bool]] = []
        elif step.relation is not None and step.relation.fk:
            parent, parent_id = current
            fk = parent.table.c[step.relation.fk]
            target_id = connection.scalar(select(fk).where(parent.table.c.id == parent_id))
            if target_id is None:
                raise NotFound(f"{parent.name}({parent_id}) has no {step.relation.name}")
            current = (step.entity, target_id)
            continue
        else:
            assert step.relation is not None
            conditions = [members_of(step.relation, current[1], table)]
            order = _list_order(step.relation, current[1], table)
            members = (step.relation, current[1])
        conditions.extend(visible(step.entity, table, hidden))
        if step.id is None:
            return Target(step.entity, tuple(conditions), order=order, members=members)
        found = connection.scalar(select(table.c.id).where(table.c.id == step.id, *conditions))
        if found is None:
            raise NotFound(f"no {step.entity.name} with @iot.id {step.id} at {_describe(path)}")
        current = (step.entity, step.id)
    assert current is not None
    entity, entity_id = current
    return Target(entity, (entity.table.c.id == entity_id,), entity_id)


def _list_link(
    relation: Relation, parent_id: Any, target: FromClause, name: str
) -> tuple[FromClause, ColumnElement[bool]]:
    """For an ordered relation (a MultiDatastream's ObservedProperties): its link table under
    ``name`` and the condition tying it to the parent and the ``target`` row, for the place of
    that row in the parent's list."""
    assert relation.link is not None
    _, own, other = relation.link
    link = relation.link_table.alias(name)
    return link, and_(link.c[own] == parent_id, link.c[other] == target.c.id)


def _list_order(relation: Relation, parent_id: Any, target: FromClause) -> tuple[Any, ...]:
    """The default order of an ordered relation's targets: their place in the list."""
    if relation.position is None:
        return ()
    link, condition = _list_link(relation, parent_id, target, "listed")
    place = select(link.c[relation.position]).where(condition).correlate_except(link)
    return (place.scalar_subquery(),)


def _describe(path: ResourcePath) -> str:
    parts = []
    for step in path.steps:
        name = step.relation.name if step.relation else step.entity.set_name
        parts.append(name if step.id is None else f"{name}({step.id})")
    return "/".join(parts)


@dataclass(frozen=True)
class Listing:
    """What a page of a collection reads, whatever it reads of each row: the conditions, the
    order, $skip and $top, and ``@iot.count`` if asked."""

    conditions: list[ColumnElement[bool]]
    order: list[Any]
    skip: int
    top: int
    count: int | None

    def statement(self, *columns: Any) -> Select[Any]:
        """``columns`` of the page's rows, and one row more: it tells whether there is more."""
        return (
            select(*columns)
            .where(*self.conditions)
            .order_by(*self.order)
            .offset(self.skip)
            .limit(self.top + 1)
        )


def listing(
    connection: Connection,
    backend: str,
    target: Target,
    options: QueryOptions,
    paging: Paging,
) -> Listing:
    """How one page of a collection is read, with ``$count`` (if asked) counted."""
    entity = target.entity
    check_select(entity, options)
    translator = Translator(entity, entity.table, backend)
    conditions = [*target.conditions]
    if options.filter is not None:
        conditions.append(translator.condition(options.filter))
    count = None
    if options.count:
        count = _count(connection, target, options, conditions, paging.hidden)
    order = _order_by(translator, options, target.order)
    return Listing(conditions, order, options.skip or 0, paging.top(options), count)


def read_collection(
    connection: Connection,
    backend: str,
    target: Target,
    options: QueryOptions,
    paging: Paging,
) -> Page:
    """One page of a collection, with ``$count`` and ``$expand`` applied."""
    page = listing(connection, backend, target, options, paging)
    top = page.top
    if top == 0:
        # "$top=0&$count=true" asks for the count alone: no rows to search for. (A LIMIT 1
        # by id also tempts PostgreSQL into walking the primary key of a large table.)
        return Page([], page.count, more=False)
    entity = target.entity
    records = read_records(connection, page.statement(*fetched(columns_for(entity, options))))
    more = len(records) > top
    del records[top:]
    expand_records(connection, backend, entity, records, options.expand, paging)
    return Page(records, page.count, more=more)


def _count(
    connection: Connection,
    target: Target,
    options: QueryOptions,
    conditions: list[ColumnElement[bool]],
    hidden: Hidden,
) -> int:
    """``@iot.count``: kept per Datastream for Observations without $filter, else counted.
    (The kept total of all Observations includes hidden ones: with any hidden, it is counted.)
    """
    if target.entity is statistics.OBSERVATION and not (hidden and target.members is None):
        kept = statistics.observation_count(connection, target.members, options)
        if kept is not None:
            return kept
    table = target.entity.table
    return int(connection.scalar(select(func.count()).select_from(table).where(*conditions)))


def read_entity(
    connection: Connection, backend: str, target: Target, options: QueryOptions, paging: Paging
) -> Record:
    entity = target.entity
    check_select(entity, options)
    found = read_records(
        connection, select(*fetched(columns_for(entity, options))).where(*target.conditions)
    )
    if not found:
        raise NotFound(f"no such {entity.name}")
    record = found[0]
    expand_records(connection, backend, entity, [record], options.expand, paging)
    return record


def columns_for(entity: EntityType, options: QueryOptions) -> tuple[Any, ...]:
    """The columns a read needs: all of them, or with $select only the selected ones (plus
    the id, and the keys of to-one relations to expand)."""
    if options.select is None:
        return entity.read_columns
    selected = {path[0] for path in options.select}
    expanded = {item.path[0] for item in options.expand}
    names = ["id"]
    for prop in entity.properties:
        if prop.name in selected:
            names.extend(prop.columns)
    names.extend(r.fk for r in entity.relations if r.fk and r.name in expanded)
    return tuple(entity.table.c[name] for name in dict.fromkeys(names))


#: Times as the driver returns them: text on SQLite, datetimes on PostgreSQL. Serialising
#: writes them out directly (``serialize.wire_instant``), without a Python conversion per value.
_STORED_TIME = DateTime(timezone=True).with_variant(Text(), "sqlite")


def fetched(columns: Iterable[Any]) -> list[Any]:
    """``columns`` for a read that is serialised: times as stored, JSON documents as text
    (``read_records`` hands them on as ``orjson.Fragment``: written out, never parsed)."""
    return [_as_stored(column) for column in columns]


def _as_stored(column: Any) -> Any:
    if isinstance(column.type, UTCDateTime):
        return type_coerce(column, _STORED_TIME).label(column.name)
    if isinstance(column.type, JSON):
        return cast(column, Text).label(_DOCUMENT_PREFIX + column.name)
    return column


_DOCUMENT_PREFIX = "_document_"


def read_records(connection: Connection, statement: Select[Any]) -> list[Record]:
    """The rows of ``statement`` as Records of plain dicts (built once per row, read fast)."""
    result = connection.execute(statement)
    names = list(result.keys())
    keys = [name.removeprefix(_DOCUMENT_PREFIX) for name in names]
    documents = [key for name, key in zip(names, keys, strict=True) if name != key]
    records = []
    for values in result.all():
        row = dict(zip(keys, values, strict=True))
        for key in documents:
            if row[key] is not None:
                row[key] = Fragment(row[key])
        records.append(Record(row))
    return records


_BY_ID = {
    e.name: select(*e.read_columns).where(e.table.c.id == bindparam("entity_id"))
    for e in ENTITY_TYPES
}


def read_by_id(connection: Connection, entity: EntityType, entity_id: int) -> Record:
    """One entity by id, with a statement built once: the re-read after every write."""
    row = connection.execute(_BY_ID[entity.name], {"entity_id": entity_id}).mappings().first()
    if row is None:
        raise NotFound(f"no {entity.name} with @iot.id {entity_id}")
    return Record(row)


def check_select(entity: EntityType, options: QueryOptions) -> None:
    """A ``$select`` may only name the id, self link, properties and relations (400 otherwise)."""
    for name, *_ in options.select or ():
        if name in ("id", "@iot.id", "@iot.selfLink"):
            continue
        if name not in entity.property_by_name and name not in entity.relation_by_name:
            known = ", ".join(["id", *entity.property_by_name, *entity.relation_by_name])
            raise BadRequest(
                f"cannot select '{name}': {entity.name} has no such property; known: {known}"
            )


def _order_by(
    translator: Translator, options: QueryOptions, default: tuple[Any, ...] = ()
) -> list[Any]:
    """ORDER BY clauses: nulls first ascending, last descending; then the id, for stability.
    Without ``$orderby``, ``default`` comes first (the order of an ordered relation)."""
    clauses = [] if options.orderby else list(default)
    descending = False
    for item in options.orderby:
        key, nullable = translator.order_key(item.expr)
        descending = item.descending
        clause = key.desc() if descending else key.asc()
        if nullable:
            clause = clause.nulls_last() if descending else clause.nulls_first()
        clauses.append(clause)
    table = translator.table
    clauses.append(table.c.id.desc() if descending else table.c.id.asc())
    return clauses


# --- $expand --------------------------------------------------------------------------------


def merge_expands(expands: tuple[Expand, ...]) -> dict[str, QueryOptions]:
    """``Datastreams,Datastreams/Observations`` → one Datastreams expand holding Observations."""
    merged: dict[str, QueryOptions] = {}
    for item in expands:
        head, rest = item.path[0], item.path[1:]
        own = QueryOptions(expand=(Expand(rest, item.options),)) if rest else item.options
        previous = merged.get(head)
        if previous is None:
            merged[head] = own
        elif rest:
            merged[head] = replace(previous, expand=previous.expand + own.expand)
        else:
            merged[head] = replace(own, expand=own.expand + previous.expand)
    return merged


def expand_records(
    connection: Connection,
    backend: str,
    entity: EntityType,
    records: list[Record],
    expands: tuple[Expand, ...],
    paging: Paging,
) -> None:
    if not records or not expands:
        return
    for name, options in merge_expands(expands).items():
        relation = entity.relation_by_name.get(name)
        if relation is None:
            raise BadRequest(f"cannot expand '{name}': {entity.name} has no such relation")
        check_select(target_of(relation), options)
        if relation.many:
            _expand_many(connection, backend, entity, relation, records, options, paging)
        else:
            _expand_one(connection, backend, relation, records, options, paging)


def _expand_one(
    connection: Connection,
    backend: str,
    relation: Relation,
    records: list[Record],
    options: QueryOptions,
    paging: Paging,
) -> None:
    assert relation.fk is not None
    target = target_of(relation)
    table = target.table
    ids = sorted({r.row[relation.fk] for r in records if r.row[relation.fk] is not None})
    conditions = [table.c.id.in_(ids)]
    if options.filter is not None:
        conditions.append(Translator(target, table, backend).condition(options.filter))
    conditions.extend(visible(target, table, paging.hidden))
    statement = select(*fetched(columns_for(target, options))).where(*conditions)
    children = {record.row["id"]: record for record in read_records(connection, statement)}
    expand_records(connection, backend, target, list(children.values()), options.expand, paging)
    for record in records:
        child = children.get(record.row[relation.fk])
        record.expanded.append(Expanded(relation, options, [child] if child else []))


def _expand_many(
    connection: Connection,
    backend: str,
    entity: EntityType,
    relation: Relation,
    records: list[Record],
    options: QueryOptions,
    paging: Paging,
) -> None:
    target = target_of(relation)
    top = paging.top(options)
    # One row more than a page tells whether there is more (for the nextLink).
    limit = top + 1
    by_parent: dict[int, list[Record]] = {r.row["id"]: [] for r in records}
    parent_ids = list(by_parent)
    latest_only = statistics.is_latest_only(relation, options, top)
    # Latest values are primary-key lookups: all parents in one statement.
    chunk_size = max(len(parent_ids), 1) if latest_only else _EXPAND_CHUNK
    for start in range(0, len(parent_ids), chunk_size):
        chunk = parent_ids[start : start + chunk_size]
        if latest_only:
            parents = _parents(backend, chunk)
            columns = fetched(columns_for(target, options))
            statement = statistics.latest_per_parent(parents, columns)
        else:
            statement = _top_per_parent(
                backend, relation, target, options, limit, chunk, paging.hidden
            )
        for record in read_records(connection, statement):
            by_parent[record.row["_parent"]].append(record)
    counts = _counts(connection, backend, relation, target, options, parent_ids, paging.hidden)
    children = [child for items in by_parent.values() for child in items[:top]]
    expand_records(connection, backend, target, children, options.expand, paging)
    for record in records:
        items = by_parent[record.row["id"]]
        if latest_only:  # the kept count tells whether there is more than the latest
            more = bool(items) and items[0].row[statistics.KEPT_COUNT] > top
        else:
            more = top > 0 and len(items) > top
        record.expanded.append(
            Expanded(
                relation,
                options,
                items[:top],
                count=None if counts is None else counts.get(record.row["id"], 0),
                more=more,
            )
        )


def _parents(backend: str, ids: list[int]) -> FromClause:
    """The parent ids as a one-parameter table, so the statement compiles once and is cached."""
    if backend == "postgresql":
        values = bindparam("parent_ids", ids, type_=ARRAY(Integer))
        return func.unnest(values).table_valued("value").render_derived(name="parents")
    values = bindparam("parent_ids", orjson.dumps(ids).decode())
    return func.json_each(values).table_valued("value").alias("parents")


def _top_per_parent(
    backend: str,
    relation: Relation,
    target: EntityType,
    options: QueryOptions,
    limit: int,
    parent_ids: list[int],
    hidden: Hidden,
) -> Select[Any]:
    """The first ``limit`` related rows of every parent, each an index lookup.

    PostgreSQL: a LATERAL subquery per parent. SQLite has no LATERAL; a correlated
    ``rowid IN (… LIMIT n)`` per parent is planned as the same lookups.
    """
    parents = _parents(backend, parent_ids)
    inner_table = target.table.alias("inner")
    inner_translator = Translator(target, inner_table, backend)
    conditions = [members_of(relation, parents.c.value, inner_table)]
    if options.filter is not None:
        conditions.append(inner_translator.condition(options.filter))
    conditions.extend(visible(target, inner_table, hidden))
    # An ordered relation is listed in its own order: its link table is joined for it.
    inner: FromClause = inner_table
    listed: tuple[Any, ...] = ()
    if relation.position is not None:
        link, on = _list_link(relation, parents.c.value, inner_table, "listed")
        inner, listed = inner_table.join(link, on), (link.c[relation.position],)
    order = _order_by(inner_translator, options, listed)
    skip = options.skip or 0
    if backend == "postgresql":
        columns = [inner_table.c[c.name] for c in target.read_columns]
        places = [place.label("_place") for place in listed]
        lateral = (
            select(*columns, *places)
            .select_from(inner)
            .where(*conditions)
            .order_by(*order)
            .offset(skip)
            .limit(limit)
        ).lateral("related")
        # The same order again outside: a join does not promise to keep the inner one.
        outer_listed = tuple(lateral.c[place.name] for place in places)
        outer_order = _order_by(Translator(target, lateral, backend), options, outer_listed)
        wanted = fetched([lateral.c[c.name] for c in columns_for(target, options)])
        return (
            select(parents.c.value.label("_parent"), *wanted)
            .select_from(parents.join(lateral, true()))
            .order_by(parents.c.value, *outer_order)
        )
    outer = target.table
    ids = (
        select(inner_table.c.id)
        .select_from(inner)
        .where(*conditions)
        .order_by(*order)
        .offset(skip)
        .limit(limit)
    )
    rows = parents.join(outer, outer.c.id.in_(ids))
    outer_listed: tuple[Any, ...] = ()
    if relation.position is not None:
        link, on = _list_link(relation, parents.c.value, outer, "outer_listed")
        rows, outer_listed = rows.join(link, on), (link.c[relation.position],)
    outer_order = _order_by(Translator(target, outer, backend), options, outer_listed)
    return (
        select(parents.c.value.label("_parent"), *fetched(columns_for(target, options)))
        .select_from(rows)
        .order_by(parents.c.value, *outer_order)
    )


def _counts(
    connection: Connection,
    backend: str,
    relation: Relation,
    target: EntityType,
    options: QueryOptions,
    parent_ids: list[int],
    hidden: Hidden,
) -> dict[int, int] | None:
    if not options.count:
        return None
    parents = _parents(backend, parent_ids)
    kept = statistics.observation_counts(connection, relation, options, parents)
    if kept is not None:
        return kept
    table = target.table.alias("counted")
    conditions = [members_of(relation, parents.c.value, table)]
    if options.filter is not None:
        conditions.append(Translator(target, table, backend).condition(options.filter))
    conditions.extend(visible(target, table, hidden))
    count = select(func.count()).select_from(table).where(*conditions).scalar_subquery()
    rows = connection.execute(select(parents.c.value, count).select_from(parents))
    return {parent: n for parent, n in rows}
