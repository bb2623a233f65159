"""The database schema, one definition for both backends (SQLAlchemy Core).

Migrations in ``migrations/versions`` create exactly this; a test checks that they agree.
Tables are AUTOINCREMENT on SQLite so that ids are never reused.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    text,
)

from cityhub.store.types import BigId, Geometry, JSONDocument, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
    }
)

_AUTOINCREMENT = {"sqlite_autoincrement": True}


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True)


def _ref(name: str, target: str, nullable: bool = False, on_delete: str = "CASCADE") -> Column[int]:
    return Column(name, Integer, ForeignKey(f"{target}.id", ondelete=on_delete), nullable=nullable)


# --- publication: who publishes what, under which licence, to whom -------------------------

organizations = Table(
    "organizations",
    metadata,
    _id(),
    Column("slug", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("url", Text),
    Column("email", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("uq_organizations_slug", "slug", unique=True),
    **_AUTOINCREMENT,
)

datasets = Table(
    "datasets",
    metadata,
    _id(),
    Column("slug", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    _ref("organization_id", "organizations", nullable=True, on_delete="SET NULL"),
    Column("licence", Text, nullable=False),
    Column("keywords", JSONDocument, nullable=False),
    Column("themes", JSONDocument, nullable=False),
    Column("update_frequency", Text),
    Column("contact_name", Text),
    Column("contact_email", Text),
    # "public" or "restricted": restricted data is visible only to tokens that may read it.
    Column("visibility", Text, nullable=False),
    Column("hvd_category", Text),
    Column("extras", JSONDocument),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index("uq_datasets_slug", "slug", unique=True),
    Index(None, "organization_id"),
    CheckConstraint("visibility IN ('public', 'restricted')", name="ck_datasets_visibility"),
    **_AUTOINCREMENT,
)

# A feature collection: places of one kind (public toilets, chargers, districts) in a dataset.
collections = Table(
    "collections",
    metadata,
    _id(),
    Column("slug", Text, nullable=False),
    _ref("dataset_id", "datasets"),
    Column("title", Text, nullable=False),
    Column("description", Text),
    # The property whose value identifies a feature across re-imports (upserts), if any.
    Column("key_property", Text),
    # Properties holding each feature's time or time interval (for ``datetime`` queries).
    Column("time_property", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index("uq_collections_slug", "slug", unique=True),
    Index(None, "dataset_id"),
    **_AUTOINCREMENT,
)

features = Table(
    "features",
    metadata,
    _id(),
    _ref("collection_id", "collections"),
    # The value of the collection's key property, for upserts; NULL without one.
    Column("key", Text),
    Column("properties", JSONDocument, nullable=False),
    Column("geom", Geometry()),
    Column("time_start", UTCDateTime),
    Column("time_end", UTCDateTime),
    # A live feature: its properties carry this Thing's latest values.
    _ref("thing_id", "things", nullable=True, on_delete="SET NULL"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index("uq_features_collection_id_key", "collection_id", "key", unique=True),
    Index(None, "thing_id"),
    **_AUTOINCREMENT,
)

# --- SensorThings ----------------------------------------------------------------------------

things = Table(
    "things",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("properties", JSONDocument),
    # The dataset the Thing is published in; its Locations, Datastreams and Observations
    # follow it. NULL: in no dataset, public.
    _ref("dataset_id", "datasets", nullable=True, on_delete="SET NULL"),
    Index(None, "dataset_id"),
    **_AUTOINCREMENT,
)

locations = Table(
    "locations",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("encoding_type", Text, nullable=False),
    Column("location", JSONDocument, nullable=False),
    Column("geom", Geometry()),
    Column("properties", JSONDocument),
    **_AUTOINCREMENT,
)

thing_locations = Table(
    "thing_locations",
    metadata,
    Column("thing_id", Integer, ForeignKey("things.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "location_id", Integer, ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    ),
    Index(None, "location_id"),
)

historical_locations = Table(
    "historical_locations",
    metadata,
    _id(),
    _ref("thing_id", "things"),
    Column("time", UTCDateTime, nullable=False),
    Index("ix_historical_locations_thing_id_time", "thing_id", "time"),
    **_AUTOINCREMENT,
)

historical_location_locations = Table(
    "historical_location_locations",
    metadata,
    Column(
        "historical_location_id",
        Integer,
        ForeignKey("historical_locations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "location_id", Integer, ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    ),
    Index(None, "location_id"),
)

sensors = Table(
    "sensors",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("encoding_type", Text, nullable=False),
    Column("metadata", JSONDocument, nullable=False),
    Column("properties", JSONDocument),
    **_AUTOINCREMENT,
)

observed_properties = Table(
    "observed_properties",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("definition", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("properties", JSONDocument),
    **_AUTOINCREMENT,
)


def _extents() -> list[Column[object]]:
    """What a Datastream or MultiDatastream keeps of its Observations' space and time."""
    return [
        Column("observed_area", JSONDocument),
        Column("phenomenon_time_start", UTCDateTime),
        Column("phenomenon_time_end", UTCDateTime),
        Column("result_time_start", UTCDateTime),
        Column("result_time_end", UTCDateTime),
    ]


datastreams = Table(
    "datastreams",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("unit_of_measurement", JSONDocument, nullable=False),
    Column("observation_type", Text, nullable=False),
    *_extents(),
    Column("properties", JSONDocument),
    _ref("thing_id", "things"),
    _ref("sensor_id", "sensors"),
    _ref("observed_property_id", "observed_properties"),
    # Statistics kept current on every write (derived.py), so that $count and the latest
    # Observation of each Datastream are read, not computed. The latest one is the first by
    # phenomenonTime (start) descending, then id descending, as the general path orders them;
    # no foreign key: deletes of Observations recompute it in the same transaction.
    Column("observation_count", BigInteger, nullable=False, server_default=text("0")),
    Column("latest_observation_id", BigId),
    Column("latest_phenomenon_time", UTCDateTime),
    Index(None, "thing_id"),
    Index(None, "sensor_id"),
    Index(None, "observed_property_id"),
    **_AUTOINCREMENT,
)

features_of_interest = Table(
    "features_of_interest",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("encoding_type", Text, nullable=False),
    Column("feature", JSONDocument, nullable=False),
    Column("geom", Geometry()),
    Column("properties", JSONDocument),
    # The Location this feature was derived from, so later observations reuse it.
    _ref("source_location_id", "locations", nullable=True, on_delete="SET NULL"),
    Index(None, "source_location_id"),
    **_AUTOINCREMENT,
)

multi_datastreams = Table(
    "multi_datastreams",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("unit_of_measurements", JSONDocument, nullable=False),
    Column("observation_type", Text, nullable=False),
    Column("multi_observation_data_types", JSONDocument, nullable=False),
    *_extents(),
    Column("properties", JSONDocument),
    _ref("thing_id", "things"),
    _ref("sensor_id", "sensors"),
    Index(None, "thing_id"),
    Index(None, "sensor_id"),
    **_AUTOINCREMENT,
)

# A MultiDatastream's ObservedProperties form a list: results, unitOfMeasurements and
# multiObservationDataTypes follow its order, kept in ``position`` (0, 1, …).
multi_datastream_observed_properties = Table(
    "multi_datastream_observed_properties",
    metadata,
    Column(
        "multi_datastream_id",
        Integer,
        ForeignKey("multi_datastreams.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "observed_property_id",
        Integer,
        ForeignKey("observed_properties.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, nullable=False),
    Index(None, "observed_property_id"),
    Index(
        "uq_multi_datastream_observed_properties_position",
        "multi_datastream_id",
        "position",
        unique=True,
    ),
)

# Result columns: exactly one of number/string/json is used, as result_type says.
RESULT_NULL, RESULT_INTEGER, RESULT_FLOAT, RESULT_STRING, RESULT_BOOLEAN, RESULT_JSON = range(6)

#: The rule that an Observation belongs to exactly one Datastream or MultiDatastream.
ONE_STREAM = "(datastream_id IS NULL) <> (multi_datastream_id IS NULL)"

observations = Table(
    "observations",
    metadata,
    Column("id", BigId, primary_key=True),
    # An Observation belongs to a Datastream or to a MultiDatastream: exactly one is set.
    _ref("datastream_id", "datastreams", nullable=True),
    _ref("multi_datastream_id", "multi_datastreams", nullable=True),
    Column("phenomenon_time_start", UTCDateTime, nullable=False),
    Column("phenomenon_time_end", UTCDateTime),
    Column("result_time", UTCDateTime),
    Column("result_type", SmallInteger, nullable=False),
    Column("result_number", Float),
    Column("result_string", Text),
    Column("result_json", JSONDocument),
    Column("result_quality", JSONDocument),
    Column("valid_time_start", UTCDateTime),
    Column("valid_time_end", UTCDateTime),
    Column("parameters", JSONDocument),
    _ref("feature_of_interest_id", "features_of_interest"),
    # One datastream over a time range, and its latest value, are index range scans; the
    # result's number rides along so aggregates over a range never visit the table.
    Index(
        "ix_observations_datastream_id_time_result",
        "datastream_id",
        "phenomenon_time_start",
        "id",
        "result_number",
    ),
    # Partial: the Observations of Datastreams (nearly all) cost this index nothing on ingest.
    Index(
        "ix_observations_multi_datastream_id_phenomenon_time_start_id",
        "multi_datastream_id",
        "phenomenon_time_start",
        "id",
        postgresql_where=text("multi_datastream_id IS NOT NULL"),
        sqlite_where=text("multi_datastream_id IS NOT NULL"),
    ),
    Index(None, "feature_of_interest_id"),
    CheckConstraint(ONE_STREAM, name="ck_observations_one_stream"),
    **_AUTOINCREMENT,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("token_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    # A token bound to a dataset reads it even when restricted, and what it creates joins it.
    _ref("dataset_id", "datasets", nullable=True),
    Index("uq_api_tokens_token_hash", "token_hash", unique=True),
    Index(None, "dataset_id"),
    **_AUTOINCREMENT,
)

#: Tables with a geometry column, kept in a bounding-box index on SQLite.
GEOMETRY_TABLES = ("locations", "features_of_interest", "features")

# --- LoRaWAN: the device registry, stored uplinks (deduplication) and dead letters ----------

# A LoRaWAN device: which Thing it feeds, how its payload is decoded, which decoded field goes
# to which Datastream ({"field": datastream id}). Its Thing, Location and Datastreams are
# ordinary SensorThings entities; a Thing's deletion leaves the device unbound, not gone.
lorawan_devices = Table(
    "lorawan_devices",
    metadata,
    _id(),
    Column("dev_eui", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("decoder", Text),
    Column("integration", Text),
    _ref("thing_id", "things", nullable=True, on_delete="SET NULL"),
    # The FeatureOfInterest of the device's Observations (from its Location, if it has one).
    _ref("feature_of_interest_id", "features_of_interest", nullable=True, on_delete="SET NULL"),
    Column("mapping", JSONDocument, nullable=False),
    Column("location", JSONDocument),
    # The latest device status the network reported: battery level (%) and link margin (dB).
    Column("battery", Float),
    Column("margin", Integer),
    Column("status_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index("uq_lorawan_devices_dev_eui", "dev_eui", unique=True),
    Index(None, "thing_id"),
    Index(None, "feature_of_interest_id"),
    **_AUTOINCREMENT,
)

# Every stored uplink once, with its radio metadata. ``dedup_key`` is the network server's
# deduplication id where it gives one, else session and frame counter: the same uplink
# arriving again (redelivery, webhook and MQTT) hits the primary key and is not stored twice.
lorawan_uplinks = Table(
    "lorawan_uplinks",
    metadata,
    # The key is the record: one index to maintain per uplink, and the one ON CONFLICT asks.
    Column("dev_eui", Text, primary_key=True),
    Column("dedup_key", Text, primary_key=True),
    Column("integration", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
    Column("session", Text),
    Column("f_cnt", BigInteger),
    Column("f_port", SmallInteger),
    Column("rssi", Float),
    Column("snr", Float),
    Column("spreading_factor", SmallInteger),
    Column("gateway_count", SmallInteger),
    Column("frequency", BigInteger),
)

# A message that could not be stored, kept as it arrived with the reason, to be retried once
# the decoder or the registry is fixed (or dropped).
lorawan_dead_letters = Table(
    "lorawan_dead_letters",
    metadata,
    _id(),
    Column("integration", Text, nullable=False),
    Column("network", Text, nullable=False),
    Column("topic", Text),
    Column("event", Text),
    Column("payload", LargeBinary, nullable=False),
    Column("dev_eui", Text),
    Column("reason", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("1")),
    Column("last_attempt_at", UTCDateTime, nullable=False),
    Index(None, "dev_eui"),
    **_AUTOINCREMENT,
)
