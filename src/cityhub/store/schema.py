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
    # Who wrote it from where, and when ({"connector", "source", "fetched_at"} or an import's).
    Column("provenance", JSONDocument),
    # When its source stopped listing it; gone features are kept, not served as current.
    Column("gone_at", UTCDateTime),
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

# --- connectors: what each run did, and who runs what when ------------------------------------

connector_runs = Table(
    "connector_runs",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    # "schedule" or "manual"; the process that ran it.
    Column("trigger", Text, nullable=False),
    Column("holder", Text, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # "running", then "ok" or "failed"; a failed run's error names its cause.
    Column("status", Text, nullable=False),
    Column("summary", JSONDocument),
    Column("error", Text),
    Index("ix_connector_runs_name_started_at", "name", "started_at"),
    CheckConstraint("status IN ('running', 'ok', 'failed')", name="ck_connector_runs_status"),
    **_AUTOINCREMENT,
)

# One row per connector: the process running it (until expires_at) and when it is next due.
# Claimed by a conditional UPDATE, so each scheduled run happens once among all workers.
connector_leases = Table(
    "connector_leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text),
    Column("expires_at", UTCDateTime),
    Column("next_due", UTCDateTime, nullable=False),
)

#: Tables with a geometry column, kept in a bounding-box index on SQLite.
GEOMETRY_TABLES = ("locations", "features_of_interest", "features")

# --- GTFS: the loaded timetable of each feed, and its latest realtime updates ------------------

# One row per configured feed; its timetable is replaced as a whole when the source changes.
gtfs_feeds = Table(
    "gtfs_feeds",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    # The dataset the feed is published in: a restricted one hides its departures too.
    _ref("dataset_id", "datasets"),
    Column("source", Text, nullable=False),
    # SHA-256 of the loaded zip: the same file again is not loaded twice.
    Column("digest", Text, nullable=False),
    # The agency time zone: GTFS times are local times of the service day.
    Column("timezone", Text, nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("counts", JSONDocument),
    Column("realtime_source", Text),
    Column("realtime_timestamp", UTCDateTime),
    Column("realtime_fetched_at", UTCDateTime),
    Index("uq_gtfs_feeds_name", "name", unique=True),
    Index(None, "dataset_id"),
    **_AUTOINCREMENT,
)


def _feed_ref() -> Column[int]:
    return Column(
        "feed_id", Integer, ForeignKey("gtfs_feeds.id", ondelete="CASCADE"), nullable=False
    )


gtfs_agencies = Table(
    "gtfs_agencies",
    metadata,
    _feed_ref(),
    Column("agency_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("url", Text),
    Column("timezone", Text, nullable=False),
    Index("uq_gtfs_agencies_feed_id_agency_id", "feed_id", "agency_id", unique=True),
)

gtfs_stops = Table(
    "gtfs_stops",
    metadata,
    _feed_ref(),
    Column("stop_id", Text, nullable=False),
    Column("name", Text),
    Column("code", Text),
    Column("lat", Float),
    Column("lon", Float),
    # 0 stop or platform, 1 station, 2 entrance, 3 node, 4 boarding area.
    Column("location_type", SmallInteger, nullable=False),
    Column("parent_station", Text),
    Column("platform_code", Text),
    # Stop times where passengers board here, in the whole timetable: sizes the look-ahead.
    Column("departures", Integer, nullable=False),
    # Stop first: a departures request names the stop, not the feed.
    Index("uq_gtfs_stops_stop_id_feed_id", "stop_id", "feed_id", unique=True),
    Index(None, "parent_station"),
    Index(None, "feed_id"),
)

gtfs_routes = Table(
    "gtfs_routes",
    metadata,
    _feed_ref(),
    Column("route_id", Text, nullable=False),
    Column("agency_id", Text),
    Column("short_name", Text),
    Column("long_name", Text),
    Column("route_type", Integer, nullable=False),
    Column("color", Text),
    Index("uq_gtfs_routes_feed_id_route_id", "feed_id", "route_id", unique=True),
)

gtfs_trips = Table(
    "gtfs_trips",
    metadata,
    _feed_ref(),
    Column("trip_id", Text, nullable=False),
    Column("route_id", Text, nullable=False),
    Column("service_id", Text, nullable=False),
    Column("headsign", Text),
    Column("short_name", Text),
    Column("direction_id", SmallInteger),
    # The stop_sequence of its last stop, where it only arrives.
    Column("last_sequence", Integer, nullable=False),
    Index("uq_gtfs_trips_feed_id_trip_id", "feed_id", "trip_id", unique=True),
)

gtfs_stop_times = Table(
    "gtfs_stop_times",
    metadata,
    _feed_ref(),
    Column("trip_id", Text, nullable=False),
    Column("stop_sequence", Integer, nullable=False),
    Column("stop_id", Text, nullable=False),
    # Seconds after noon minus 12 h of the service day; past 86400 on the next day.
    Column("arrival", Integer, nullable=False),
    Column("departure", Integer, nullable=False),
    Column("headsign", Text),
    # 1 where passengers board: not the trip's last stop, and pickup_type is not 1.
    Column("boards", SmallInteger, nullable=False),
    # The trip's service, here too: the departures index answers "runs that day?" itself.
    Column("service_id", Text, nullable=False),
    # The departures of a stop from a time on are one range of this index.
    Index(
        "ix_gtfs_stop_times_departures",
        "feed_id",
        "stop_id",
        "departure",
        "service_id",
        postgresql_where=text("boards = 1"),
        sqlite_where=text("boards = 1"),
    ),
    Index("uq_gtfs_stop_times_trip", "feed_id", "trip_id", "stop_sequence", unique=True),
)

gtfs_calendar = Table(
    "gtfs_calendar",
    metadata,
    _feed_ref(),
    Column("service_id", Text, nullable=False),
    # Monday first, "1" on the days it runs: "1111100" on working days.
    Column("weekdays", Text, nullable=False),
    # Dates as numbers YYYYMMDD, as GTFS writes them.
    Column("start_date", Integer, nullable=False),
    Column("end_date", Integer, nullable=False),
    Index("uq_gtfs_calendar_feed_id_service_id", "feed_id", "service_id", unique=True),
)

gtfs_calendar_dates = Table(
    "gtfs_calendar_dates",
    metadata,
    _feed_ref(),
    Column("service_id", Text, nullable=False),
    Column("date", Integer, nullable=False),
    # 1 added on that date, 2 removed (a holiday).
    Column("exception_type", SmallInteger, nullable=False),
    Index("ix_gtfs_calendar_dates_day", "feed_id", "date", "service_id"),
)

# The latest GTFS-Realtime TripUpdates of a feed, replaced as a whole by each fetch.
gtfs_rt_trips = Table(
    "gtfs_rt_trips",
    metadata,
    _feed_ref(),
    Column("trip_id", Text, nullable=False),
    # The service day it applies to (YYYYMMDD); NULL: whichever day the trip runs.
    Column("start_date", Integer),
    Column("cancelled", SmallInteger, nullable=False),
    Column("delay", Integer),
    Index("ix_gtfs_rt_trips_trip", "feed_id", "trip_id"),
)

gtfs_rt_stops = Table(
    "gtfs_rt_stops",
    metadata,
    _feed_ref(),
    Column("trip_id", Text, nullable=False),
    Column("start_date", Integer),
    Column("stop_sequence", Integer, nullable=False),
    # Departure delay in seconds (arrival delay where no departure is given); NULL: no data.
    Column("delay", Integer),
    Column("skipped", SmallInteger, nullable=False),
    Index("ix_gtfs_rt_stops_trip", "feed_id", "trip_id", "stop_sequence"),
)

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

# --- Configuration managed through the admin API, beside cityhub.toml's ------------------------

# A connector created through the admin API: the same fields as a [connectors.<name>] table,
# as a JSON document checked by ConnectorConfig. Secrets are never stored, only the names of
# environment variables holding them.
connector_configs = Table(
    "connector_configs",
    metadata,
    Column("name", Text, primary_key=True),
    Column("document", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

# A LoRaWAN integration created through the admin API: a [[lorawan]] entry as a JSON document
# checked by LorawanIntegration (password_env and secret_env name variables, never values).
lorawan_integrations = Table(
    "lorawan_integrations",
    metadata,
    Column("name", Text, primary_key=True),
    Column("document", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

# --- Information screens and crisis messages -----------------------------------------------------

# A public information screen: its layout (the tiles and their options, checked by
# cityhub.screens.tiles), and what it last reported of itself (heartbeat).
screens = Table(
    "screens",
    metadata,
    Column("slug", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("screen_group", Text),
    Column("orientation", Text, nullable=False),
    Column("layout", JSONDocument, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime),
    Column("version", Text),
    CheckConstraint("orientation IN ('landscape', 'portrait')", name="ck_screens_orientation"),
)

# A message pushed to the screens of a group (all screens when screen_group is NULL); shown
# until withdrawn or expired. A critical one takes a screen over; others are a banner.
crisis_messages = Table(
    "crisis_messages",
    metadata,
    _id(),
    Column("text", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("screen_group", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("withdrawn_at", UTCDateTime),
    Column("created_by", Text),
    CheckConstraint(
        "severity IN ('info', 'warning', 'critical')", name="ck_crisis_messages_severity"
    ),
    Index("ix_crisis_messages_withdrawn_at_expires_at", "withdrawn_at", "expires_at"),
    **_AUTOINCREMENT,
)
