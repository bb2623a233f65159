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
    insert,
    select,
    update,
)

from cityhub.errors import BadRequest
from cityhub.sensorthings import derived
from cityhub.sensorthings.model import (
    BY_NAME,
    ENTITY_TYPES,
    OBSERVATION_TYPES,
    EntityType,
    Relation,
    inverse_of,
    target_of,
)
from cityhub.sensorthings.serialize import result_value
from cityhub.sensorthings.values import check_result, column_values, geometry_of
from cityhub.store import schema

Body = dict[str, Any]

# Keys a client may send back from a read; they carry nothing to write.
_IGNORED_SUFFIXES = ("@iot.selfLink", "@iot.navigationLink", "@iot.count", "@iot.nextLink")


# Statements built once per entity type; SQLAlchemy then reuses their compiled form cheaply.
_ID_EXISTS = {
    e.name: select(e.table.c.id).where(e.table.c.id == bindparam("entity_id")) for e in ENTITY_TYPES
}
_INSERT = {e.name: insert(e.table) for e in ENTITY_TYPES}


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


def _check_observation_type(entity: EntityType, values: Body) -> None:
    """A Datastream's observationType, when given, must be one of the O&M types (clause 8.2.4)."""
    if entity.name != "Datastream" or "observation_type" not in values:
        return
    if values["observation_type"] not in OBSERVATION_TYPES:
        allowed = ", ".join(sorted(OBSERVATION_TYPES))
        raise BadRequest(f"Datastream.observationType must be one of {allowed}")


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
    for relation in entity.relations:
        if relation.required and values.get(relation.fk) is None:
            raise BadRequest(f"{entity.name} needs a {relation.name} (inline or by @iot.id)")
    contexts = _prepare_observation(connection, values) if entity.name == "Observation" else {}
    _geometry_columns(entity, values)
    _check_observation_type(entity, values)
    new_id = connection.execute(_INSERT[entity.name], values).inserted_primary_key[0]
    # Links first: a Thing's Locations must exist before its Observations derive features.
    later.sort(key=lambda item: item[0].link is None)
    for relation, value in later:
        _create_related(connection, entity, new_id, relation, value)
    if entity.name == "Observation":
        derived.extend_datastream_extents(connection, [values], contexts)
    return int(new_id)


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
    link_entities(connection, entity, entity_id, relation, ids)


def link_entities(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, ids: list[int]
) -> None:
    """Add many-to-many links; a Thing's new Locations replace its current ones (with history)."""
    assert relation.link is not None
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


# --- observations -------------------------------------------------------------------------


def _prepare_observation(connection: Connection, values: Body) -> dict[int, Any]:
    """Check the Datastream and the result; fill in phenomenonTime and the feature.

    Returns the Datastream's context, which ``extend_datastream_extents`` reuses.
    """
    contexts = derived.datastream_contexts(connection, {values["datastream_id"]})
    row = contexts.get(values["datastream_id"])
    if row is None:
        raise BadRequest(f"Datastream({values['datastream_id']}) does not exist")
    check_result(row.observation_type, result_value(values))
    if values.get("phenomenon_time_start") is None:
        values["phenomenon_time_start"] = now()
    if values.get("feature_of_interest_id") is None:
        values["feature_of_interest_id"] = row.feature_id or derived.feature_from_location(
            connection, row.thing_id
        )
    return contexts


def plain_observation_columns(body: Any, fixed: Body) -> Body | None:
    """Columns of an Observation that only links its Datastream: the ingest hot path.

    ``None`` for anything more (inline entities, a linked feature), which takes ``create``.
    """
    observation = BY_NAME["Observation"]
    properties, relations = _split(observation, _require_object("Observation", body))
    values = _property_columns(observation, properties, full=True)
    linked = {relation.name: value for relation, value in relations.items()}
    datastream = linked.pop("Datastream", None)
    if linked:
        return None
    if "datastream_id" in fixed:
        values.update(fixed)
    elif isinstance(datastream, dict) and list(datastream) == ["@iot.id"]:
        datastream_id = datastream["@iot.id"]
        if isinstance(datastream_id, bool) or not isinstance(datastream_id, int):
            return None
        if not BY_NAME["Datastream"].holds_id(datastream_id):
            return None  # no such Datastream: ``create`` says so
        values["datastream_id"] = datastream_id
    else:
        return None
    values["feature_of_interest_id"] = None
    return values


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
    if entity.name == "Observation":
        _check_updated_observation(connection, old, values)
    _check_observation_type(entity, values)
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
    if entity.name == "Observation":
        derived.recompute_datastream_extents(
            connection, {old["datastream_id"], values.get("datastream_id", old["datastream_id"])}
        )


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
    if relation.remote_fk:
        if not ids:
            return
        table = target_of(relation).table
        connection.execute(
            update(table).where(table.c.id.in_(ids)).values({relation.remote_fk: entity_id})
        )
    else:
        link_entities(connection, entity, entity_id, relation, ids)


def _check_updated_observation(connection: Connection, old: Any, values: Body) -> None:
    merged = {**old, **values}
    observation_type = connection.scalar(
        select(schema.datastreams.c.observation_type).where(
            schema.datastreams.c.id == merged["datastream_id"]
        )
    )
    check_result(observation_type, result_value(merged))
    if "phenomenon_time_start" in values and values["phenomenon_time_start"] is None:
        values["phenomenon_time_start"] = now()


# --- delete -------------------------------------------------------------------------------


def delete_entity(connection: Connection, entity: EntityType, entity_id: int) -> None:
    """Delete with the cascades of clause 10.4; the foreign keys cascade the rest."""
    table = entity.table
    touched: set[int] = set()
    observations = schema.observations
    if entity.name == "Observation":
        touched = set(
            connection.scalars(
                select(observations.c.datastream_id).where(observations.c.id == entity_id)
            )
        )
    elif entity.name == "FeatureOfInterest":
        touched = set(
            connection.scalars(
                select(observations.c.datastream_id)
                .where(observations.c.feature_of_interest_id == entity_id)
                .distinct()
            )
        )
    elif entity.name == "Location":
        links = schema.historical_location_locations
        histories = select(links.c.historical_location_id).where(links.c.location_id == entity_id)
        connection.execute(
            delete(schema.historical_locations).where(
                schema.historical_locations.c.id.in_(histories)
            )
        )
    connection.execute(delete(table).where(table.c.id == entity_id))
    derived.recompute_datastream_extents(connection, touched)


def unlink(
    connection: Connection, entity: EntityType, entity_id: int, relation: Relation, target_id: int
) -> None:
    """Remove one many-to-many link (``DELETE …/Locations(2)/$ref``)."""
    if relation.link is None:
        inverse = inverse_of(entity, relation)
        name = inverse.name if inverse else relation.name
        raise BadRequest(f"{relation.name} cannot be unlinked: every {name} needs it")
    _, own, other = relation.link
    link = relation.link_table
    connection.execute(delete(link).where(link.c[own] == entity_id, link.c[other] == target_id))
