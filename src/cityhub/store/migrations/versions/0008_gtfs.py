"""GTFS: the timetable of each feed, and its latest GTFS-Realtime trip updates.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from cityhub.store.types import JSONDocument, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TIMETABLE = (
    "gtfs_agencies",
    "gtfs_stops",
    "gtfs_routes",
    "gtfs_trips",
    "gtfs_stop_times",
    "gtfs_calendar",
    "gtfs_calendar_dates",
    "gtfs_rt_trips",
    "gtfs_rt_stops",
)


def _feed() -> sa.Column:
    return sa.Column(
        "feed_id", sa.Integer, sa.ForeignKey("gtfs_feeds.id", ondelete="CASCADE"), nullable=False
    )


def _text(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "gtfs_feeds",
        sa.Column("id", sa.Integer, primary_key=True),
        _text("name", False),
        sa.Column(
            "dataset_id",
            sa.Integer,
            sa.ForeignKey("datasets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _text("source", False),
        _text("digest", False),
        _text("timezone", False),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
        sa.Column("checked_at", UTCDateTime, nullable=False),
        sa.Column("counts", JSONDocument),
        _text("realtime_source"),
        sa.Column("realtime_timestamp", UTCDateTime),
        sa.Column("realtime_fetched_at", UTCDateTime),
        sqlite_autoincrement=True,
    )
    op.create_index("uq_gtfs_feeds_name", "gtfs_feeds", ["name"], unique=True)
    op.create_index("ix_gtfs_feeds_dataset_id", "gtfs_feeds", ["dataset_id"])
    op.create_table(
        "gtfs_agencies",
        _feed(),
        _text("agency_id", False),
        _text("name", False),
        _text("url"),
        _text("timezone", False),
    )
    op.create_index(
        "uq_gtfs_agencies_feed_id_agency_id", "gtfs_agencies", ["feed_id", "agency_id"], unique=True
    )
    op.create_table(
        "gtfs_stops",
        _feed(),
        _text("stop_id", False),
        _text("name"),
        _text("code"),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("location_type", sa.SmallInteger, nullable=False),
        _text("parent_station"),
        _text("platform_code"),
        sa.Column("departures", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_gtfs_stops_stop_id_feed_id", "gtfs_stops", ["stop_id", "feed_id"], unique=True
    )
    op.create_index("ix_gtfs_stops_parent_station", "gtfs_stops", ["parent_station"])
    op.create_index("ix_gtfs_stops_feed_id", "gtfs_stops", ["feed_id"])
    op.create_table(
        "gtfs_routes",
        _feed(),
        _text("route_id", False),
        _text("agency_id"),
        _text("short_name"),
        _text("long_name"),
        sa.Column("route_type", sa.Integer, nullable=False),
        _text("color"),
    )
    op.create_index(
        "uq_gtfs_routes_feed_id_route_id", "gtfs_routes", ["feed_id", "route_id"], unique=True
    )
    op.create_table(
        "gtfs_trips",
        _feed(),
        _text("trip_id", False),
        _text("route_id", False),
        _text("service_id", False),
        _text("headsign"),
        _text("short_name"),
        sa.Column("direction_id", sa.SmallInteger),
        sa.Column("last_sequence", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_gtfs_trips_feed_id_trip_id", "gtfs_trips", ["feed_id", "trip_id"], unique=True
    )
    op.create_table(
        "gtfs_stop_times",
        _feed(),
        _text("trip_id", False),
        sa.Column("stop_sequence", sa.Integer, nullable=False),
        _text("stop_id", False),
        sa.Column("arrival", sa.Integer, nullable=False),
        sa.Column("departure", sa.Integer, nullable=False),
        _text("headsign"),
        sa.Column("boards", sa.SmallInteger, nullable=False),
        _text("service_id", False),
    )
    op.create_index(
        "ix_gtfs_stop_times_departures",
        "gtfs_stop_times",
        ["feed_id", "stop_id", "departure", "service_id"],
        postgresql_where=sa.text("boards = 1"),
        sqlite_where=sa.text("boards = 1"),
    )
    op.create_index(
        "uq_gtfs_stop_times_trip",
        "gtfs_stop_times",
        ["feed_id", "trip_id", "stop_sequence"],
        unique=True,
    )
    op.create_table(
        "gtfs_calendar",
        _feed(),
        _text("service_id", False),
        _text("weekdays", False),
        sa.Column("start_date", sa.Integer, nullable=False),
        sa.Column("end_date", sa.Integer, nullable=False),
    )
    op.create_index(
        "uq_gtfs_calendar_feed_id_service_id",
        "gtfs_calendar",
        ["feed_id", "service_id"],
        unique=True,
    )
    op.create_table(
        "gtfs_calendar_dates",
        _feed(),
        _text("service_id", False),
        sa.Column("date", sa.Integer, nullable=False),
        sa.Column("exception_type", sa.SmallInteger, nullable=False),
    )
    op.create_index(
        "ix_gtfs_calendar_dates_day", "gtfs_calendar_dates", ["feed_id", "date", "service_id"]
    )
    op.create_table(
        "gtfs_rt_trips",
        _feed(),
        _text("trip_id", False),
        sa.Column("start_date", sa.Integer),
        sa.Column("cancelled", sa.SmallInteger, nullable=False),
        sa.Column("delay", sa.Integer),
    )
    op.create_index("ix_gtfs_rt_trips_trip", "gtfs_rt_trips", ["feed_id", "trip_id"])
    op.create_table(
        "gtfs_rt_stops",
        _feed(),
        _text("trip_id", False),
        sa.Column("start_date", sa.Integer),
        sa.Column("stop_sequence", sa.Integer, nullable=False),
        sa.Column("delay", sa.Integer),
        sa.Column("skipped", sa.SmallInteger, nullable=False),
    )
    op.create_index(
        "ix_gtfs_rt_stops_trip", "gtfs_rt_stops", ["feed_id", "trip_id", "stop_sequence"]
    )


def downgrade() -> None:
    for table in reversed(_TIMETABLE):
        op.drop_table(table)
    op.drop_table("gtfs_feeds")
