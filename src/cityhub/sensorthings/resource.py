"""Resource paths (clause 9.2): ``Things(1)/Datastreams``, ``Datastreams(2)/Thing/name/$value``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityhub.digits import is_digits
from cityhub.errors import BadRequest, NotFound
from cityhub.sensorthings.model import BY_SET, EntityType, Relation, target_of

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<id>[^)]*)\))?$")


@dataclass(frozen=True)
class Step:
    """One entity-addressing segment; ``relation`` leads here from the previous step."""

    entity: EntityType
    relation: Relation | None
    id: int | None

    @property
    def is_collection(self) -> bool:
        return self.id is None and (self.relation is None or self.relation.many)


@dataclass(frozen=True)
class ResourcePath:
    steps: tuple[Step, ...]
    property_path: tuple[str, ...] = ()
    value: bool = False
    ref: bool = False

    @property
    def last(self) -> Step:
        return self.steps[-1]


def parse_resource_path(path: str) -> ResourcePath:
    """Parse the part of the URL after the version, e.g. ``Things(1)/Locations``."""
    segments = [s for s in path.strip("/").split("/") if s]
    if not segments:
        raise BadRequest("empty resource path")
    steps: list[Step] = []
    index = 0
    for index, segment in enumerate(segments):  # noqa: B007 - index is used after the loop
        if segment.startswith("$"):
            break
        match = _SEGMENT.match(segment)
        name, raw_id = (match["name"], match["id"]) if match else (segment, None)
        step = _entity_step(steps, name, raw_id) if match else None
        if step is None:
            break
        steps.append(step)
    else:
        return ResourcePath(tuple(steps))
    if not steps:
        raise NotFound(f"no entity set named '{segments[0]}'; see the service root for the list")
    return _tail(tuple(steps), segments[index:])


def _entity_step(steps: list[Step], name: str, raw_id: str | None) -> Step | None:
    entity_id = _parse_id(raw_id) if raw_id is not None else None
    if not steps:
        entity = BY_SET.get(name)
        if entity is None:
            raise NotFound(f"no entity set named '{name}'; see the service root for the list")
        return Step(entity, None, _in_range(entity, entity_id))
    previous = steps[-1]
    relation = previous.entity.relation_by_name.get(name)
    if relation is None:
        return None  # a property of the previous entity
    if previous.is_collection:
        raise BadRequest(
            f"'{name}' must follow a single entity, e.g. {previous.entity.set_name}(1)/{name}"
        )
    if entity_id is not None and not relation.many:
        raise BadRequest(f"'{name}' is a single entity and takes no id")
    target = target_of(relation)
    return Step(target, relation, _in_range(target, entity_id))


def _in_range(entity: EntityType, entity_id: int | None) -> int | None:
    if entity_id is not None and not entity.holds_id(entity_id):
        raise NotFound(f"no {entity.name} with @iot.id {entity_id}")
    return entity_id


def _parse_id(raw: str) -> int:
    text = raw.strip("'")
    if not is_digits(text):
        raise BadRequest(f"'{raw}' is not a valid @iot.id: ids are integers")
    return int(text)


def _tail(steps: tuple[Step, ...], rest: list[str]) -> ResourcePath:
    last = steps[-1]
    if rest == ["$ref"]:
        return ResourcePath(steps, ref=True)
    if last.is_collection:
        raise BadRequest(f"'{rest[0]}' cannot follow a collection; address one entity first")
    value = rest[-1] == "$value"
    names = tuple(rest[:-1] if value else rest)
    if not names or any(n.startswith("$") for n in names):
        raise BadRequest(f"unexpected segment '{'/'.join(rest)}'")
    if names[0] not in last.entity.property_by_name:
        raise NotFound(f"{last.entity.name} has no property or relation '{names[0]}'")
    return ResourcePath(steps, property_path=names, value=value)
