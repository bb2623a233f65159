"""The access rule (``cityhub.store.access``) for SensorThings entities.

A Thing is in a dataset; its Datastreams, MultiDatastreams, HistoricalLocations and their
Observations follow it. Locations, Sensors, ObservedProperties and FeaturesOfInterest may be
shared: each is hidden only when everything it belongs to is hidden (one linked to nothing
is public). ``visible`` gives the conditions that keep hidden rows out of a statement; the
resource paths, ``$expand``, ``$count``, ``$filter`` paths and the extensions all read
through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, exists, not_, or_, select

from cityhub.sensorthings.model import EntityType
from cityhub.store import schema
from cityhub.store.access import Hidden, in_visible_dataset

_things = schema.things
_datastreams = schema.datastreams
_multi = schema.multi_datastreams


def visible(entity: EntityType, table: FromClause, hidden: Hidden) -> list[ColumnElement[bool]]:
    """Conditions on ``table`` (the entity's table or an alias of it) that keep out what
    ``hidden`` hides; none when nothing is hidden."""
    if not hidden:
        return []
    return [_RULES[entity.name](table, hidden)]


def _hidden_things(hidden: Hidden) -> Select[tuple[int]]:
    return select(_things.c.id).where(_things.c.dataset_id.in_(sorted(hidden.datasets)))


def _thing(table: FromClause, hidden: Hidden) -> ColumnElement[bool]:
    return in_visible_dataset(table.c.dataset_id, hidden)


def _owned(table: FromClause, hidden: Hidden) -> ColumnElement[bool]:
    """Datastreams, MultiDatastreams, HistoricalLocations: their Thing is visible."""
    return table.c.thing_id.not_in(_hidden_things(hidden))


def _observation(table: FromClause, hidden: Hidden) -> ColumnElement[bool]:
    hidden_things = _hidden_things(hidden)
    streams = select(_datastreams.c.id).where(_datastreams.c.thing_id.in_(hidden_things))
    multis = select(_multi.c.id).where(_multi.c.thing_id.in_(hidden_things))
    return and_(
        or_(table.c.datastream_id.is_(None), table.c.datastream_id.not_in(streams)),
        or_(table.c.multi_datastream_id.is_(None), table.c.multi_datastream_id.not_in(multis)),
    )


#: For an entity's table: the condition tying an owner's row to the entity's row, and the
#: condition that the owner is visible.
Owner = Callable[[FromClause, Hidden], tuple[ColumnElement[bool], ColumnElement[bool]]]
Rule = Callable[[FromClause, Hidden], ColumnElement[bool]]


def _shared(*owners: Owner) -> Rule:
    """A rule for an entity that may belong to several owners: visible if it belongs to
    none, or to one that is visible."""

    def rule(table: FromClause, hidden: Hidden) -> ColumnElement[bool]:
        ties = [owner(table, hidden) for owner in owners]
        belongs = or_(*(exists().where(tie) for tie, _ in ties))
        seen = or_(*(exists().where(tie, shown) for tie, shown in ties))
        return or_(not_(belongs), seen)

    return rule


def _located(table: FromClause, hidden: Hidden) -> tuple[Any, Any]:
    link = schema.thing_locations
    return link.c.location_id == table.c.id, link.c.thing_id.not_in(_hidden_things(hidden))


def _sensed_by(column: str) -> Owner:
    def owner(table: FromClause, hidden: Hidden) -> tuple[Any, Any]:
        stream = _datastreams if column == "datastream" else _multi
        return stream.c.sensor_id == table.c.id, _owned(stream, hidden)

    return owner


def _observing(table: FromClause, hidden: Hidden) -> tuple[Any, Any]:
    return _datastreams.c.observed_property_id == table.c.id, _owned(_datastreams, hidden)


def _observing_multi(table: FromClause, hidden: Hidden) -> tuple[Any, Any]:
    link = schema.multi_datastream_observed_properties
    multi = select(_multi.c.id).where(_owned(_multi, hidden))
    return link.c.observed_property_id == table.c.id, link.c.multi_datastream_id.in_(multi)


def _feature_of(table: FromClause, hidden: Hidden) -> tuple[Any, Any]:
    observations = schema.observations.alias("featured")
    tie = observations.c.feature_of_interest_id == table.c.id
    return tie, _observation(observations, hidden)


_RULES: dict[str, Rule] = {
    "Thing": _thing,
    "Datastream": _owned,
    "MultiDatastream": _owned,
    "HistoricalLocation": _owned,
    "Observation": _observation,
    "Location": _shared(_located),
    "Sensor": _shared(_sensed_by("datastream"), _sensed_by("multi")),
    "ObservedProperty": _shared(_observing, _observing_multi),
    "FeatureOfInterest": _shared(_feature_of),
}
