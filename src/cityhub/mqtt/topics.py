"""MQTT topics of the SensorThings face (clause 14): ``v1.1/`` plus a resource path.

Creating: ``v1.1/Observations`` and ``v1.1/<Parent>(<id>)/Observations`` for the parents
that own Observations (Datastreams, FeaturesOfInterest), and ``v1.1/CreateObservations`` for
many at once (``mqtt/bulk.py``). Receiving: the collection, entity
and property paths an entity's change is visible under, optionally with ``?$select=…``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cityhub.errors import BadRequest
from cityhub.sensorthings.model import BY_NAME, EntityType, inverse_of, target_of
from cityhub.sensorthings.options import parse_select
from cityhub.sensorthings.resource import ResourcePath, parse_resource_path
from cityhub.store.changes import CREATED, Change

VERSION = "v1.1"
OBSERVATION = BY_NAME["Observation"]
CREATE_OBSERVATIONS = "CreateObservations"


@dataclass(frozen=True)
class CreateTarget:
    """Where a published Observation goes: the keys its topic fixes and the parent path."""

    fixed: dict[str, int]
    parent: ResourcePath | None


def create_filters(prefix: str) -> list[str]:
    """Topic filters covering every topic that can create (others are rejected on arrival)."""
    return [
        f"{prefix}{VERSION}/Observations",
        f"{prefix}{VERSION}/+/Observations",
        bulk_topic(prefix),
    ]


def bulk_topic(prefix: str) -> str:
    """The topic taking the body of ``POST CreateObservations`` (a cityhub extension)."""
    return f"{prefix}{VERSION}/{CREATE_OBSERVATIONS}"


@lru_cache(maxsize=4096)
def create_target(topic: str, prefix: str) -> CreateTarget:
    """The create a topic asks for; ``BadRequest`` for a topic that cannot create.

    Devices publish to the same few topics again and again: each is parsed once."""
    path = _resource_path(topic, prefix)
    if "?" in path:
        raise BadRequest(f"topic {topic!r}: a create topic takes no query options")
    resource = parse_resource_path(path)
    last = resource.last
    if resource.property_path or resource.ref or last.entity is not OBSERVATION:
        raise BadRequest(f"topic {topic!r} cannot create: publish Observations to {VERSION}/…")
    if len(resource.steps) == 1:
        return CreateTarget({}, None)
    if len(resource.steps) != 2 or last.relation is None or not last.relation.remote_fk:
        raise BadRequest(f"topic {topic!r} cannot create Observations")
    parent = resource.steps[0]
    assert parent.id is not None
    return CreateTarget({last.relation.remote_fk: parent.id}, ResourcePath(resource.steps[:1]))


def _resource_path(topic: str, prefix: str) -> str:
    start = f"{prefix}{VERSION}/"
    if not topic.startswith(start):
        raise BadRequest(f"topic {topic!r} does not start with {start!r}")
    return topic[len(start) :]


def change_topics(entity: EntityType, change: Change, row: Any) -> Iterator[tuple[str, str | None]]:
    """(topic path, property name or None) under which a change is visible.

    A created entity appears in its entity set and in each navigation collection of its
    to-one relations (``Datastreams(1)/Observations``); an update is visible there too, as
    well as on the entity and on each changed property.
    """
    yield entity.set_name, None
    for relation in entity.relations:
        if not relation.fk or row[relation.fk] is None:
            continue
        inverse = inverse_of(entity, relation)
        if inverse is not None:
            yield f"{target_of(relation).set_name}({row[relation.fk]})/{inverse.name}", None
    if change.kind == CREATED:
        return
    single = f"{entity.set_name}({change.id})"
    yield single, None
    for name in change.properties:
        yield f"{single}/{name}", name


@dataclass(frozen=True)
class SelectSubscription:
    """A subscribed topic with ``?$select=…``: the exact topic and the selected names."""

    topic: str
    names: frozenset[str]


class Interest:
    """Which topics someone subscribed to; ``None`` filters mean: unknown, publish all.

    With the embedded broker the hub sees every subscription, so it publishes only what
    someone receives and serves ``$select`` topics; an external broker does not tell.
    """

    def __init__(self, filters: Iterable[str] | None, prefix: str) -> None:
        self.everything = filters is None
        self._plain: list[str] = []
        self._selects: dict[str, list[tuple[str, str]]] = {}
        for topic_filter in filters or ():
            base, _, query = topic_filter.partition("?")
            if query:
                self._selects.setdefault(base, []).append((topic_filter, query))
            else:
                self._plain.append(topic_filter)
        self._prefix = prefix

    @property
    def empty(self) -> bool:
        return not self.everything and not self._plain and not self._selects

    def wants(self, topic: str) -> bool:
        return self.everything or any(topic_matches(f, topic) for f in self._plain)

    def selections(self, entity: EntityType, topic: str) -> list[SelectSubscription]:
        """The ``$select`` subscriptions on ``topic`` that are valid for ``entity``."""
        found = []
        for full, query in self._selects.get(topic, ()):
            names = _select_names(entity, query)
            if names is not None:
                found.append(SelectSubscription(full, names))
        return found


def _select_names(entity: EntityType, query: str) -> frozenset[str] | None:
    """The names of a ``$select=…`` query, or ``None`` if it is not one (then ignored)."""
    key, _, value = query.partition("=")
    if key != "$select" or not value:
        return None
    try:
        paths = parse_select(value)
    except BadRequest:
        return None
    names = frozenset(path[0] for path in paths)
    known = {"id", "@iot.id", "@iot.selfLink", *entity.property_by_name, *entity.relation_by_name}
    return names if names <= known else None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic-filter matching with ``+`` and ``#`` (MQTT 3.1.1 clause 4.7)."""
    if "+" not in topic_filter and "#" not in topic_filter:
        return topic_filter == topic
    levels = topic.split("/")
    parts = topic_filter.split("/")
    for index, part in enumerate(parts):
        if part == "#":
            return True
        if index >= len(levels) or part not in ("+", levels[index]):
            return False
    return len(parts) == len(levels)
