"""The SensorThings data model (OGC 18-088 clause 8), declared once.

Routes, SQL, validation and serialisation are all derived from these tables; there is no
module per entity type.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from sqlalchemy import BigInteger, Column, Table

from cityhub.store import schema


class Kind(Enum):
    """How a property is stored, validated and written on the wire."""

    TEXT = "text"  # a string
    OBJECT = "object"  # a JSON object
    ANY = "any"  # any JSON value
    INSTANT = "instant"  # one ISO 8601 instant (column)
    INTERVAL = "interval"  # an ISO 8601 interval (columns <name>_start, <name>_end)
    TIME = "time"  # an instant or an interval (columns <name>_start, <name>_end)
    GEOMETRY = "geometry"  # GeoJSON (column <name>, plus a spatial column geom)
    RESULT = "result"  # an Observation result (typed columns, see schema)


OBSERVATION_TYPE_BASE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
OBSERVATION_TYPES = frozenset(
    OBSERVATION_TYPE_BASE + name
    for name in (
        "OM_CategoryObservation",
        "OM_CountObservation",
        "OM_Measurement",
        "OM_Observation",
        "OM_TruthObservation",
    )
)
#: The observationType of every MultiDatastream (clause 12).
COMPLEX_OBSERVATION = OBSERVATION_TYPE_BASE + "OM_ComplexObservation"
GEOJSON_ENCODINGS = frozenset({"application/geo+json", "application/vnd.geo+json"})


@dataclass(frozen=True)
class Property:
    """An entity property: its wire name, how it is stored, and whether a client must send it."""

    name: str
    kind: Kind
    column: str
    required: bool = False
    computed: bool = False  # maintained by the server; ignored in request bodies
    # A JSON array whose every item is of this kind (OBJECT or TEXT); ``kind`` is then ANY.
    items: Kind | None = None
    # The only values a TEXT property (or each TEXT item) may take.
    allowed: frozenset[str] | None = None

    @cached_property
    def columns(self) -> tuple[str, ...]:
        if self.kind in (Kind.INTERVAL, Kind.TIME):
            return (f"{self.column}_start", f"{self.column}_end")
        if self.kind is Kind.RESULT:
            return ("result_type", "result_number", "result_string", "result_json")
        return (self.column,)


@dataclass(frozen=True)
class Relation:
    """A navigation property. Exactly one of ``fk``, ``remote_fk`` and ``link`` says how it joins.

    - ``fk``: a column of this entity's table holding the target's id (to-one);
    - ``remote_fk``: a column of the target's table holding this entity's id (to-many);
    - ``link``: (table, column for this entity, column for the target) (to-many).

    ``position`` names a column of the link table that keeps the targets in the order this
    entity lists them; such a list is only ever set as a whole, from this side. A required
    to-many relation needs at least one target.
    """

    name: str
    target: str
    fk: str | None = None
    remote_fk: str | None = None
    link: tuple[str, str, str] | None = None
    required: bool = False
    position: str | None = None

    @property
    def many(self) -> bool:
        return self.fk is None

    @property
    def link_table(self) -> Table:
        assert self.link is not None
        return schema.metadata.tables[self.link[0]]


@dataclass(frozen=True)
class EntityType:
    """An entity type; besides its properties and relations, two rules spanning several:

    - ``exactly_one_of``: to-one relations of which every entity has exactly one
      (an Observation's Datastream or MultiDatastream);
    - ``parallel``: array properties, then last an ordered relation, that describe one list
      item by item, so they must be of equal length (a MultiDatastream's unitOfMeasurements,
      multiObservationDataTypes and ObservedProperties).
    """

    name: str
    set_name: str
    table: Table
    properties: tuple[Property, ...]
    relations: tuple[Relation, ...]
    exactly_one_of: tuple[str, ...] = ()
    parallel: tuple[str, ...] = ()

    @cached_property
    def property_by_name(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties}

    @cached_property
    def relation_by_name(self) -> dict[str, Relation]:
        return {r.name: r for r in self.relations}

    def holds_id(self, entity_id: int) -> bool:
        """Whether an id fits this entity's id column; one beyond its range exists nowhere
        (and must not reach the SQL, where PostgreSQL would reject it)."""
        limit = 2**63 if isinstance(self.table.c.id.type, BigInteger) else 2**31
        return 0 < entity_id < limit

    @cached_property
    def spatial_property(self) -> Property | None:
        """The GeoJSON property kept in a spatial column (``geom``) too, if any."""
        if "geom" not in self.table.c:
            return None
        return next(p for p in self.properties if p.kind is Kind.GEOMETRY)

    @cached_property
    def read_columns(self) -> tuple[Column[object], ...]:
        """Columns a read selects: the id, every property's columns and the to-one keys."""
        names = ["id"]
        for prop in self.properties:
            names.extend(prop.columns)
        names.extend(r.fk for r in self.relations if r.fk)
        return tuple(self.table.c[name] for name in names)


def _common(*middle: Property) -> tuple[Property, ...]:
    return (
        Property("name", Kind.TEXT, "name", required=True),
        Property("description", Kind.TEXT, "description", required=True),
        *middle,
        Property("properties", Kind.OBJECT, "properties"),
    )


def _extents() -> tuple[Property, ...]:
    """What the server keeps covering the Observations of a (Multi)Datastream."""
    return (
        Property("observedArea", Kind.GEOMETRY, "observed_area", computed=True),
        Property("phenomenonTime", Kind.INTERVAL, "phenomenon_time", computed=True),
        Property("resultTime", Kind.INTERVAL, "result_time", computed=True),
    )


_MULTI_LINK = "multi_datastream_observed_properties"

ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType(
        "Thing",
        "Things",
        schema.things,
        _common(),
        (
            Relation("Locations", "Location", link=("thing_locations", "thing_id", "location_id")),
            Relation("HistoricalLocations", "HistoricalLocation", remote_fk="thing_id"),
            Relation("Datastreams", "Datastream", remote_fk="thing_id"),
            Relation("MultiDatastreams", "MultiDatastream", remote_fk="thing_id"),
        ),
    ),
    EntityType(
        "Location",
        "Locations",
        schema.locations,
        _common(
            Property("encodingType", Kind.TEXT, "encoding_type", required=True),
            Property("location", Kind.GEOMETRY, "location", required=True),
        ),
        (
            Relation("Things", "Thing", link=("thing_locations", "location_id", "thing_id")),
            Relation(
                "HistoricalLocations",
                "HistoricalLocation",
                link=("historical_location_locations", "location_id", "historical_location_id"),
            ),
        ),
    ),
    EntityType(
        "HistoricalLocation",
        "HistoricalLocations",
        schema.historical_locations,
        (Property("time", Kind.INSTANT, "time", required=True),),
        (
            Relation("Thing", "Thing", fk="thing_id", required=True),
            Relation(
                "Locations",
                "Location",
                link=("historical_location_locations", "historical_location_id", "location_id"),
            ),
        ),
    ),
    EntityType(
        "Datastream",
        "Datastreams",
        schema.datastreams,
        _common(
            Property("unitOfMeasurement", Kind.OBJECT, "unit_of_measurement", required=True),
            Property(
                "observationType",
                Kind.TEXT,
                "observation_type",
                required=True,
                allowed=OBSERVATION_TYPES,
            ),
            *_extents(),
        ),
        (
            Relation("Thing", "Thing", fk="thing_id", required=True),
            Relation("Sensor", "Sensor", fk="sensor_id", required=True),
            Relation(
                "ObservedProperty", "ObservedProperty", fk="observed_property_id", required=True
            ),
            Relation("Observations", "Observation", remote_fk="datastream_id"),
        ),
    ),
    EntityType(
        "MultiDatastream",
        "MultiDatastreams",
        schema.multi_datastreams,
        _common(
            Property(
                "unitOfMeasurements",
                Kind.ANY,
                "unit_of_measurements",
                required=True,
                items=Kind.OBJECT,
            ),
            Property(
                "observationType",
                Kind.TEXT,
                "observation_type",
                required=True,
                allowed=frozenset({COMPLEX_OBSERVATION}),
            ),
            Property(
                "multiObservationDataTypes",
                Kind.ANY,
                "multi_observation_data_types",
                required=True,
                items=Kind.TEXT,
                allowed=OBSERVATION_TYPES,
            ),
            *_extents(),
        ),
        (
            Relation("Thing", "Thing", fk="thing_id", required=True),
            Relation("Sensor", "Sensor", fk="sensor_id", required=True),
            Relation(
                "ObservedProperties",
                "ObservedProperty",
                link=(_MULTI_LINK, "multi_datastream_id", "observed_property_id"),
                required=True,
                position="position",
            ),
            Relation("Observations", "Observation", remote_fk="multi_datastream_id"),
        ),
        parallel=("unitOfMeasurements", "multiObservationDataTypes", "ObservedProperties"),
    ),
    EntityType(
        "Sensor",
        "Sensors",
        schema.sensors,
        _common(
            Property("encodingType", Kind.TEXT, "encoding_type", required=True),
            Property("metadata", Kind.ANY, "metadata", required=True),
        ),
        (
            Relation("Datastreams", "Datastream", remote_fk="sensor_id"),
            Relation("MultiDatastreams", "MultiDatastream", remote_fk="sensor_id"),
        ),
    ),
    EntityType(
        "ObservedProperty",
        "ObservedProperties",
        schema.observed_properties,
        (
            Property("name", Kind.TEXT, "name", required=True),
            Property("definition", Kind.TEXT, "definition", required=True),
            Property("description", Kind.TEXT, "description", required=True),
            Property("properties", Kind.OBJECT, "properties"),
        ),
        (
            Relation("Datastreams", "Datastream", remote_fk="observed_property_id"),
            Relation(
                "MultiDatastreams",
                "MultiDatastream",
                link=(_MULTI_LINK, "observed_property_id", "multi_datastream_id"),
            ),
        ),
    ),
    EntityType(
        "Observation",
        "Observations",
        schema.observations,
        (
            # Required, but the server supplies "now" when it is missing (clause 10.2).
            Property("phenomenonTime", Kind.TIME, "phenomenon_time"),
            Property("resultTime", Kind.INSTANT, "result_time"),
            Property("result", Kind.RESULT, "result", required=True),
            Property("resultQuality", Kind.ANY, "result_quality"),
            Property("validTime", Kind.INTERVAL, "valid_time"),
            Property("parameters", Kind.OBJECT, "parameters"),
        ),
        (
            Relation("Datastream", "Datastream", fk="datastream_id"),
            Relation("MultiDatastream", "MultiDatastream", fk="multi_datastream_id"),
            # Required, but derived from the Thing's Location when missing.
            Relation("FeatureOfInterest", "FeatureOfInterest", fk="feature_of_interest_id"),
        ),
        exactly_one_of=("Datastream", "MultiDatastream"),
    ),
    EntityType(
        "FeatureOfInterest",
        "FeaturesOfInterest",
        schema.features_of_interest,
        _common(
            Property("encodingType", Kind.TEXT, "encoding_type", required=True),
            Property("feature", Kind.GEOMETRY, "feature", required=True),
        ),
        (Relation("Observations", "Observation", remote_fk="feature_of_interest_id"),),
    ),
)

BY_NAME: dict[str, EntityType] = {e.name: e for e in ENTITY_TYPES}
BY_SET: dict[str, EntityType] = {e.set_name: e for e in ENTITY_TYPES}


def target_of(relation: Relation) -> EntityType:
    return BY_NAME[relation.target]


def inverse_of(entity: EntityType, relation: Relation) -> Relation | None:
    """The relation of the target that leads back (Datastream.Thing for Thing.Datastreams)."""
    target = target_of(relation)
    for candidate in target.relations:
        if candidate.target != entity.name:
            continue
        same_fk = relation.remote_fk is not None and candidate.fk == relation.remote_fk
        same_link = (
            relation.link is not None
            and candidate.link is not None
            and candidate.link[0] == relation.link[0]
        )
        reverse_fk = relation.fk is not None and candidate.remote_fk == relation.fk
        if same_fk or same_link or reverse_fk:
            return candidate
    return None
