"""Creating, updating and deleting entities (clause 10), with deep insert and linking.

Each function runs inside the writer's transaction (or savepoint): raising leaves nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from cityhub.datasets import dataset_id_of
from cityhub.errors import BadRequest
from cityhub.sensorthings import derived
from cityhub.sensorthings.derived import MULTI_DATASTREAM, Stream, StreamRef
from cityhub.sensorthings.model import (
    BY_NAME,
    ENTITY_TYPES,
    EntityType,
    Relation,
    inverse_of,
    target_of,
)
from cityhub.sensorthings.serialize import result_value
from cityhub.sensorthings.values import (
    check_multi_result,
    check_result,
    column_values,
    geometry_of,
)
from cityhub.sensorthings.visibility import visible
from cityhub.store import changes, schema
from cityhub.store.access import NOTHING_HIDDEN, Hidden

Body = dict[str, Any]

# Keys a client may send back from a read; they carry nothing to write.
_IGNORED_SUFFIXES = ("@iot.selfLink", "@iot.navigationLink", "@iot.count", "@iot.nextLink")


# Statements built once per entity type; SQLAlchemy then reuses their compiled form cheaply.
_ID_EXISTS = {
    e.name: select(e.table.c.id).where(e.table.c.id == bindparam("entity_id")) for e in ENTITY_TYPES
}
_INSERT = {e.name: insert(e.table) for e in ENTITY_TYPES}

# (entity type, relation) pairs whose entities need a target through a required link: they
# go when that target is deleted, e.g. a MultiDatastream with one of its ObservedProperties.
_REQUIRED_LINKS = tuple(
    (e, r) for e in ENTITY_TYPES for r in e.relations if r.required and r.link is not None
)


# What the writing principal may do with datasets, for the transaction's creates and updates.
_WRITER_DATASETS = "cityhub.writer_datasets"


def write_as(connection: Connection, default_dataset: int | None, hidden: Hidden) -> None:
    """Who writes next on ``connection``: Things they create without naming a dataset join
    ``default_dataset`` (the dataset their token is bound to); ``hidden`` are the datasets
    they may not read, and so may not put Things into. Each write sets it before it runs."""
    connection.info[_WRITER_DATASETS] = (default_dataset, hidden)


def _thing_dataset(connection: Connection, values: Body, creating: bool) -> None:
    """A Thing joins the dataset its ``properties.dataset`` names (by id or slug); a new one
    without it joins the writer's dataset. Naming a dataset the writer may not read is as
    naming none that exists."""
    default, hidden = connection.info.get(_WRITER_DATASETS, (None, NOTHING_HIDDEN))
    properties = values.get("properties")
    named = properties.get("dataset") if isinstance(properties, dict) else None
    if named is not None:
        dataset_id = dataset_id_of(connection, named)
        if dataset_id in hidden.datasets:
            raise BadRequest(f"no dataset '{named}'")
        values["dataset_id"] = dataset_id
    elif creating:
        values["dataset_id"] = default


def now() -> datetime:
    return datetime.now(UTC)


def _require_object(where: str, body: Any) -> Body:
    if not isinstance(body, dict):
        raise BadRequest(f"{where} must be a JSON object")
    return body


def _is_link(item: Body) -> bool:
    """An inline object carrying an ``@iot.id`` links an existing entity (clause 10.2)."""
    return "@iot.id" in item


def link_id(entity: EntityType, item: Body, connection: Connection) -> int:
    entity_id = item["@iot.id"]
    if isinstance(entity_id, bool) or not isinstance(entity_id, int):
        raise BadRequest(f"@iot.id of a linked {entity.name} must be an integer")
    if (
        not entity.holds_id(entity_id)
        or connection.scalar(_ID_EXISTS[entity.name], {"entity_id": entity_id}) is None
    ):
        raise BadRequest(f"cannot link {entity.name}({entity_id}): it does not exist")
    _, hidden = connection.info.get(_WRITER_DATASETS, (None, NOTHING_HIDDEN))
    if hidden:
        table = entity.table
        shown = select(table.c.id).where(table.c.id == entity_id, *visible(entity, table, hidden))
        if connection.scalar(shown) is None:  # what the writer may not see does not exist
            raise BadRequest(f"cannot link {entity.name}({entity_id}): it does not exist")
    return entity_id


def _split(entity: EntityType, body: Body) -> tuple[Body, dict[Relation, Any]]:
    """Separate a body into properties and relations; unknown keys are a 400."""
    properties: Body = {}
    relations: dict[Relation, Any] = {}
    for key, value in body.items():
        if key == "@iot.id" or key.endswith(_IGNORED_SUFFIXES):
            continue
        if key in entity.property_by_name:
            properties[key] = value
        elif key in entity.relation_by_name:
            relations[entity.relation_by_name[key]] = value
        else:
            known = ", ".join([*entity.property_by_name, *entity.relation_by_name])
            raise BadRequest(f"{entity.name} has no property '{key}'; known: {known}")
    return properties, relations


def _property_columns(entity: EntityType, properties: Body, full: bool) -> Body:
    """Columns for the given properties; with ``full``, every writable property (PUT, POST)."""
    values: Body = {}
    for prop in entity.properties:
        if prop.computed:
            continue
        if prop.name in properties:
            values.update(column_values(entity, prop, properties[prop.name]))
        elif full:
            if prop.required:
                raise BadRequest(f"{entity.name}.{prop.name} is required")
            values.update(column_values(entity, prop, None))
    return values


def _check_exactly_one(entity: EntityType, values: Body) -> None:
    """Exactly one relation of ``entity.exactly_one_of`` is set (an Observation's Datastream
    or MultiDatastream)."""
    names = entity.exactly_one_of
    given = [n for n in names if values.get(entity.relation_by_name[n].fk) is not None]
    if len(given) != 1:
        found = "both" if given else "neither"
        raise BadRequest(
            f"{entity.name} needs exactly one of {' or '.join(names)} (inline or by @iot.id), "
            f"got {found}"
        )


def _one_replaces_other(entity: EntityType, values: Body) -> None:
    """In an update, linking one relation of ``exactly_one_of`` unsets the others."""
    keys = [entity.relation_by_name[n].fk for n in entity.exactly_one_of]
    set_keys = [key for key in keys if values.get(key) is not None]
    if len(set_keys) > 1:
        _check_exactly_one(entity, values)  # names both
    for key in keys:
        if set_keys and key not in set_keys:
            values[key] = None


def _check_parallel(connection: Connection, entity: EntityType, entity_id: int) -> None:
    """The lists of ``entity.parallel`` have equal lengths, e.g. a MultiDatastream's
    unitOfMeasurements, multiObservationDataTypes and ObservedProperties (clause 12)."""
    table = entity.table
    properties = [entity.property_by_name[n] for n in entity.parallel[:-1]]
    relation = entity.relation_by_name[entity.parallel[-1]]
    assert relation.link is not None
    row = connection.execute(
        select(*(table.c[p.column] for p in properties)).where(table.c.id == entity_id)
    ).one()
    link, own = relation.link_table, relation.link[1]
    count = connection.scalar(
        select(func.count()).select_from(link).where(link.c[own] == entity_id)
    )
    target = relation.target if count == 1 else relation.name
    for prop, items in zip(properties, row, strict=True):
        if len(items) != count:
            entries = "entry" if len(items) == 1 else "entries"
            verb = "is" if count == 1 else "are"
            raise BadRequest(
                f"{entity.name}.{prop.name} has {len(items)} {entries} but there {verb} "
                f"{count} {target}: they must match one to one, in order"
            )


def _geometry_columns(entity: EntityType, values: Body) -> None:
    geometry = entity.spatial_property
    if geometry is None or geometry.column not in values:
        return
    encoding = values.get("encoding_type")
    where = f"{entity.name}.{geometry.name}"
    values["geom"] = geometry_of(where, encoding, values[geometry.column])


# --- create -------------------------------------------------------------------------------


def create(connection: Connection, entity: EntityType, body: Any, fixed: Body | None = None) -> int:
    """Insert ``body`` (deep insert included); ``fixed`` holds foreign keys from the URL path."""
    body = _require_object(entity.name, body)
    properties, relations = _split(entity, body)
    values = _property_columns(entity, properties, full=True)
    values.update(fixed or {})
    later: list[tuple[Relation, Any]] = []
    for relation, value in relations.items():
        if relation.fk:
            if relation.fk in (fixed or {}):
                continue  # the URL path decides, e.g. POST Datastreams(1)/Observations
            target = target_of(relation)
            values[relation.fk] = _link_or_create(connection, target, relation.name, value)
        else:
            later.append((relation, value))
    _check_required(entity, values, [relation for relation, _ in later])
    if entity.name == "Thing":
        _thing_dataset(connection, values, creating=True)
    contexts = _prepare_observation(connection, values) if entity.name == "Observation" else {}
    _geometry_columns(entity, values)
    new_id = connection.execute(_INSERT[entity.name], values).inserted_primary_key[0]
    # Links first: a Thing's Locations must exist before its Observations derive features,
    # and a MultiDatastream's ObservedProperties before its lists are compared.
    for relation, value in later:
        if relation.link:
            _create_related(connection, entity, new_id, relation, value)
    if entity.parallel:
        _check_parallel(connection, entity, new_id)
    for relation, value in later:
        if not relation.link:
            _create_related(connection, entity, new_id, relation, value)
    if entity.name == "Observation":
        derived.extend_extents(connection, [{**values, "id": new_id}], contexts)
    changes.record(connection, changes.Change(entity.name, int(new_id), changes.CREATED))
    return int(new_id)


def _check_required(entity: EntityType, values: Body, given: list[Relation]) -> None:
    """Required to-one relations are set, required to-many ones given, and exactly one of
    ``exactly_one_of``."""
    for relation in entity.relations:
        if not relation.required:
            continue
        if relation.many and relation not in given:
            raise BadRequest(
                f"{entity.name} needs at least one {relation.target} in {relation.name} "
                "(inline or by @iot.id)"
            )
        if not relation.many and values.get(relation.fk) is None:
            raise BadRequest(f"{entity.name} needs a {relation.name} (inline or by @iot.id)")
    if entity.exactly_one_of:
        _check_exactly_one(entity, values)


def _link_or_create(connection: Connection, target: EntityType, where: str, item: Any) -> int:
    item = _require_object(where, item)
    if _is_link(item):
        return link_id(target, item, connection)
    return create(connection, target, item)


def _create_related(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, items: Any
) -> None:
    if not isinstance(items, list):
        raise BadRequest(f"{entity.name}.{relation.name} must be a JSON array")
    target = target_of(relation)
    if relation.remote_fk:
        linked = []
        for item in items:
            item = _require_object(relation.name, item)
            if _is_link(item):
                linked.append(link_id(target, item, connection))
            else:
                create(connection, target, item, fixed={relation.remote_fk: entity_id})
        _replace_related(connection, entity, entity_id, relation, linked)
        return
    ids = [_link_or_create(connection, target, relation.name, item) for item in items]
    _replace_related(connection, entity, entity_id, relation, ids)


def link_entities(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, ids: list[int]
) -> None:
    """Add many-to-many links; a Thing's new Locations replace its current ones (with history)."""
    assert relation.link is not None
    _refuse_ordered(entity, relation)
    table_name, own, other = relation.link
    link = relation.link_table
    if table_name == "thing_locations":
        pairs = [(entity_id, i) if own == "thing_id" else (i, entity_id) for i in ids]
        for thing_id in sorted({t for t, _ in pairs}):
            set_thing_locations(connection, thing_id, [loc for t, loc in pairs if t == thing_id])
        return
    existing = set(connection.scalars(select(link.c[other]).where(link.c[own] == entity_id)))
    new = [{own: entity_id, other: i} for i in dict.fromkeys(ids) if i not in existing]
    if new:
        connection.execute(insert(link), new)


def _refuse_ordered(entity: EntityType, relation: Relation) -> None:
    """An ordered list of links (a MultiDatastream's ObservedProperties) changes only as a
    whole, together with the lists that parallel it: never one link at a time."""
    owner = relation if relation.position else inverse_of(entity, relation)
    if owner is None or owner.position is None:
        return
    owner_entity = target_of(relation) if owner is not relation else entity
    others = [n for n in owner_entity.parallel if n != owner.name]
    raise BadRequest(
        f"the {owner.name} of a {owner_entity.name} are an ordered list matching its "
        f"{' and '.join(others)}: links cannot be added or removed one by one; change the "
        f"list as a whole with PATCH {owner_entity.set_name}(id), sending "
        f"{', '.join([owner.name, *others])}"
    )


def set_ordered_links(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, ids: list[int]
) -> None:
    """Make ``ids`` the whole list of targets of an ordered relation, in this order."""
    assert relation.link is not None
    assert relation.position is not None
    _, own, other = relation.link
    link = relation.link_table
    for index, target_id in enumerate(ids):
        if target_id in ids[:index]:
            raise BadRequest(
                f"{relation.target}({target_id}) appears twice in {entity.name}.{relation.name}"
            )
    connection.execute(delete(link).where(link.c[own] == entity_id))
    rows = [{own: entity_id, other: i, relation.position: n} for n, i in enumerate(ids)]
    if rows:
        connection.execute(insert(link), rows)


def set_thing_locations(connection: Connection, thing_id: int, location_ids: list[int]) -> None:
    """Make ``location_ids`` the Thing's current Locations and record a HistoricalLocation.

    Linking the Locations a Thing already has is no move: no history is recorded (a client
    sending an entity back as it read it, Locations included, moves nothing).
    """
    link = schema.thing_locations
    location_ids = list(dict.fromkeys(location_ids))
    current = connection.scalars(select(link.c.location_id).where(link.c.thing_id == thing_id))
    if set(current) == set(location_ids):
        return
    connection.execute(delete(link).where(link.c.thing_id == thing_id))
    connection.execute(
        insert(link), [{"thing_id": thing_id, "location_id": i} for i in location_ids]
    )
    historical = schema.historical_locations
    history_id = connection.execute(
        insert(historical).values(thing_id=thing_id, time=now())
    ).inserted_primary_key[0]
    connection.execute(
        insert(schema.historical_location_locations),
        [{"historical_location_id": history_id, "location_id": i} for i in location_ids],
    )
    changes.record_created(connection, "HistoricalLocation", [int(history_id)])


# --- observations -------------------------------------------------------------------------


def _prepare_observation(connection: Connection, values: Body) -> dict[StreamRef, Any]:
    """Check the stream and the result; fill in phenomenonTime and the feature.

    Returns the stream's context, which ``derived.extend_extents`` reuses.
    """
    ref = derived.stream_of(values)
    contexts = derived.stream_contexts(connection, [ref])
    context = contexts.get(ref)
    if context is None:
        raise BadRequest(f"{ref[0].name}({ref[1]}) does not exist")
    check_observation_result(ref[0], context, result_value(values))
    if values.get("phenomenon_time_start") is None:
        values["phenomenon_time_start"] = now()
    if values.get("feature_of_interest_id") is None:
        values["feature_of_interest_id"] = context.feature_id or derived.feature_from_location(
            connection, context.thing_id
        )
    return contexts


def check_observation_result(stream: Stream, context: Any, value: Any) -> None:
    """The result fits the stream: its observationType, or for a MultiDatastream an array
    fitting its multiObservationDataTypes. ``context`` is from ``derived.stream_contexts``."""
    if stream is MULTI_DATASTREAM:
        check_multi_result(context.multi_observation_data_types, value)
    else:
        check_result(context.observation_type, value)


def plain_observation_columns(body: Any, fixed: Body) -> Body | None:
    """Columns of an Observation that only links its Datastream or MultiDatastream: the
    ingest hot path. Both stream keys are present (one of them None), so rows go together
    into one executemany.

    ``None`` for anything more (inline entities, a linked feature, no stream or two), which
    takes ``create``.
    """
    properties, relations = _split(_OBSERVATION, _require_object("Observation", body))
    values = _property_columns(_OBSERVATION, properties, full=True)
    fixed_stream = not fixed.keys().isdisjoint(_STREAM_TARGETS)
    if not relations and fixed_stream:
        values.update(fixed)
    elif len(relations) == 1 and not fixed_stream:
        ((relation, item),) = relations.items()
        target = _STREAM_TARGETS.get(relation.fk)
        stream_id = None if target is None else _plain_link(target, item)
        if stream_id is None:
            return None
        values[relation.fk] = stream_id
    else:
        return None
    for key in _STREAM_TARGETS:
        values.setdefault(key, None)
    values["feature_of_interest_id"] = None
    return values


def _plain_link(target: EntityType, item: Any) -> int | None:
    """The id of ``{"@iot.id": n}`` if it can name a ``target``; ``create`` says why not."""
    if not isinstance(item, dict) or len(item) != 1:
        return None
    target_id = item.get("@iot.id")
    if isinstance(target_id, bool) or not isinstance(target_id, int):
        return None
    return target_id if target.holds_id(target_id) else None


_OBSERVATION = BY_NAME["Observation"]
# The Observation's key of each stream it may belong to, and the stream's entity type.
_STREAM_TARGETS = {
    relation.fk: target_of(relation)
    for relation in _OBSERVATION.relations
    if relation.name in _OBSERVATION.exactly_one_of
}


# --- update -------------------------------------------------------------------------------


def update_entity(
    connection: Connection, entity: EntityType, entity_id: int, body: Any, replace: bool
) -> None:
    """PATCH (``replace`` False) or PUT (True: omitted optional properties are reset)."""
    body = _require_object(entity.name, body)
    properties, relations = _split(entity, body)
    values = _property_columns(entity, properties, full=replace)
    table = entity.table
    current = connection.execute(select(*entity.read_columns).where(table.c.id == entity_id))
    old = current.mappings().first()
    if old is None:
        raise BadRequest(f"no {entity.name} with @iot.id {entity_id}")
    many: list[tuple[Relation, list[int]]] = []
    for relation, value in relations.items():
        ids = _update_links(connection, relation, value)
        if relation.fk:
            values[relation.fk] = ids[0]
        else:
            many.append((relation, ids))
    if entity.exactly_one_of:
        _one_replaces_other(entity, values)
    if entity.name == "Thing":
        _thing_dataset(connection, values, creating=False)
    if entity.name == "Observation":
        _check_updated_observation(connection, old, values)
    geometry = entity.spatial_property
    if geometry is not None and ("encoding_type" in values or geometry.column in values):
        # The geometry is checked against the encodingType: complete the pair from the row.
        values.setdefault("encoding_type", old["encoding_type"])
        values.setdefault(geometry.column, old[geometry.column])
        _geometry_columns(entity, values)
        if entity.name == "Location":
            derived.forget_derived_features(connection, entity_id)
    if values:
        connection.execute(update(table).where(table.c.id == entity_id).values(values))
    for relation, ids in many:
        _replace_related(connection, entity, entity_id, relation, ids)
    if entity.parallel and any(name in body for name in entity.parallel):
        _check_parallel(connection, entity, entity_id)
    if entity.name == "Observation":
        refs = {derived.stream_of(old), derived.stream_of({**old, **values})}
        derived.recompute_extents(connection, refs)
    # PUT resets what it omits: every writable property may have changed.
    changed = [p.name for p in entity.properties if not p.computed] if replace else properties
    changes.record(connection, changes.Change(entity.name, entity_id, changes.UPDATED, (*changed,)))


def _update_links(connection: Connection, relation: Relation, value: Any) -> list[int]:
    """Relations in an update may only link existing entities (NOTES 12)."""
    items = value if relation.many else [value]
    if not isinstance(items, list):
        raise BadRequest(f"{relation.name} must be a JSON array")
    ids = []
    target = target_of(relation)
    for item in items:
        item = _require_object(relation.name, item)
        if not _is_link(item):
            raise BadRequest(
                f"{relation.name}: an update may link existing entities by @iot.id but not "
                "create new ones inline"
            )
        ids.append(link_id(target, item, connection))
    return ids


def _replace_related(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, ids: list[int]
) -> None:
    """Make the entities ``ids`` related to this one: re-point their key, or link them."""
    if relation.required and not ids:
        raise BadRequest(f"{entity.name} needs at least one {relation.target} in {relation.name}")
    if relation.remote_fk:
        if not ids:
            return
        table = target_of(relation).table
        observations = table is schema.observations
        moved = _streams_of(connection, table.c.id.in_(ids)) if observations else set()
        connection.execute(
            update(table).where(table.c.id.in_(ids)).values({relation.remote_fk: entity_id})
        )
        if observations:  # moved to another stream or feature: both streams change
            moved |= _streams_of(connection, table.c.id.in_(ids))
            derived.recompute_extents(connection, moved)
    elif relation.position:
        set_ordered_links(connection, entity, entity_id, relation, ids)
    else:
        link_entities(connection, entity, entity_id, relation, ids)


def _check_updated_observation(connection: Connection, old: Any, values: Body) -> None:
    merged = {**old, **values}
    ref = derived.stream_of(merged)
    context = derived.stream_contexts(connection, [ref])[ref]
    check_observation_result(ref[0], context, result_value(merged))
    if "phenomenon_time_start" in values and values["phenomenon_time_start"] is None:
        values["phenomenon_time_start"] = now()


# --- delete -------------------------------------------------------------------------------


def delete_entity(connection: Connection, entity: EntityType, entity_id: int) -> None:
    """Delete with the cascades of clause 10.4; the foreign keys cascade the rest."""
    table = entity.table
    touched: set[StreamRef] = set()
    if entity.name == "Observation":
        touched = _streams_of(connection, schema.observations.c.id == entity_id)
    elif entity.name == "FeatureOfInterest":
        touched = _streams_of(connection, schema.observations.c.feature_of_interest_id == entity_id)
    elif entity.name == "Location":
        links = schema.historical_location_locations
        histories = select(links.c.historical_location_id).where(links.c.location_id == entity_id)
        connection.execute(
            delete(schema.historical_locations).where(
                schema.historical_locations.c.id.in_(histories)
            )
        )
    for dependent, relation in _REQUIRED_LINKS:
        if relation.target == entity.name:
            assert relation.link is not None
            _, own, other = relation.link
            link = relation.link_table
            mine = select(link.c[own]).where(link.c[other] == entity_id)
            connection.execute(delete(dependent.table).where(dependent.table.c.id.in_(mine)))
    connection.execute(delete(table).where(table.c.id == entity_id))
    derived.recompute_extents(connection, touched)


def _streams_of(connection: Connection, condition: Any) -> set[StreamRef]:
    """The streams of the Observations matching ``condition``."""
    observations = schema.observations
    keys = [observations.c[stream.key] for stream in derived.STREAMS]
    rows = connection.execute(select(*keys).where(condition).distinct())
    return {derived.stream_of(row._mapping) for row in rows}


def unlink(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, target_id: int
) -> None:
    """Remove one many-to-many link (``DELETE …/Locations(2)/$ref``)."""
    if relation.link is None:
        inverse = inverse_of(entity, relation)
        name = inverse.name if inverse else relation.name
        raise BadRequest(f"{relation.name} cannot be unlinked: every {name} needs it")
    _refuse_ordered(entity, relation)
    _, own, other = relation.link
    link = relation.link_table
    connection.execute(delete(link).where(link.c[own] == entity_id, link.c[other] == target_id))
