"""GTFS and GTFS-Realtime: a transit timetable, its stops as features, live trip updates.

``url`` is the static feed (a zip, by URL or as a local path). It is checked at most once per
``static_every`` (conditional request, then its SHA-256 against the loaded one) and, when
new, loaded in one transaction that replaces the previous timetable and writes the stops
as features (key: stop_id; stops the new feed lacks are marked gone). ``realtime_url``, if
given, is a GTFS-Realtime TripUpdates feed fetched on every run; its latest content is kept
in the store for the departures API (``GET /departures``) of every process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo

import anyio.to_thread
from pydantic import Field, field_validator
from sqlalchemy import Connection

from cityhub import datasets
from cityhub.connectors.base import (
    Connector,
    ConnectorError,
    Options,
    RunSummary,
    SourceError,
)
from cityhub.connectors.config import ConnectorConfig, parse_duration
from cityhub.connectors.context import RunContext
from cityhub.connectors.saving import KEY_PROPERTY
from cityhub.errors import ApiError
from cityhub.features.write import (
    FeatureRecord,
    WriteSummary,
    ensure_collection,
    write_features,
)
from cityhub.gtfs import realtime
from cityhub.gtfs.feed import FeedError, FeedZip
from cityhub.gtfs.load import FeedSource, Loaded, Stop, feed_row, load_feed, mark_checked


class GtfsOptions(Options):
    realtime_url: str | None = Field(
        None, description="GTFS-Realtime TripUpdates feed (protobuf), fetched on every run."
    )
    static_every: str = Field(
        "1d", description="How often the static feed is checked for a new version, e.g. '6h'."
    )

    @field_validator("static_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


@dataclass
class GtfsSummary(RunSummary):
    """A run's summary with what happened to the timetable and the realtime updates."""

    timetable_loaded: bool = False
    stop_times: int = 0
    trips: int = 0
    trip_updates: int = 0
    stop_updates: int = 0
    cancelled: int = 0
    skipped: int = 0
    unmatched: int = 0

    @property
    def changed(self) -> bool:
        return super().changed or self.timetable_loaded or bool(self.trip_updates)

    def as_dict(self) -> dict[str, Any]:
        """The fields every run summary has (what the run ledger and status read back); the
        GTFS figures are in ``describe`` and in the feed's counts."""
        return {f.name: getattr(self, f.name) for f in fields(RunSummary)}

    def describe(self) -> str:
        parts = []
        if self.timetable_loaded:
            parts.append(
                f"timetable loaded: {self.trips} trips, {self.stop_times} stop times; "
                + super().describe()
            )
        else:
            parts.append("timetable unchanged")
        if self.trip_updates or self.unmatched:
            parts.append(
                f"realtime: {self.trip_updates} trip updates ({self.cancelled} cancelled), "
                f"{self.stop_updates} stop updates ({self.skipped} skipped), "
                f"{self.unmatched} not matched to the timetable"
            )
        return "; ".join(parts)


class Gtfs(Connector):
    options_model = GtfsOptions
    options: GtfsOptions
    missing_source = "give the static GTFS feed (a zip) as 'url'"
    # No licence: transit associations publish under different ones, so the dataset is
    # created first, with the feed's licence (cityhub dataset create).
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Fahrplan und Haltestellen (GTFS)",
        "description": "Stops and departures of public transport from the transit "
        "association's GTFS timetable, with live delays and cancellations (GTFS-Realtime).",
        "keywords": ["ÖPNV", "Haltestellen", "Fahrplan", "GTFS"],
        "themes": ["TRAN"],
        "update_frequency": "DAILY",
    }
    collection_title: ClassVar[str | None] = "Haltestellen"

    def __init__(self, name: str, config: ConnectorConfig) -> None:
        super().__init__(name, config)
        if len(self.urls) != 1:
            raise ConnectorError(f"connector '{name}': give one static GTFS feed as 'url'")

    async def run(self, context: RunContext) -> RunSummary:
        summary = GtfsSummary()
        feed = await context.store.read(lambda c: feed_row(c, self.name))
        if feed is None or self._static_due(feed, context.fetched_at):
            feed = await self._static(context, feed, summary) or feed
        if self.options.realtime_url:
            if feed is None:
                raise SourceError(f"{self.urls[0]}: no timetable loaded yet for the realtime feed")
            await self._realtime(context, feed, summary)
        return summary

    def _static_due(self, feed: dict[str, Any], now: datetime) -> bool:
        return now - feed["checked_at"] >= parse_duration(self.options.static_every)

    async def _static(
        self, context: RunContext, feed: dict[str, Any] | None, summary: GtfsSummary
    ) -> dict[str, Any] | None:
        url = self.urls[0]
        content = await self._fetch_static(context, url, first=feed is None)
        if content is None and feed is not None:
            await context.store.write(lambda c: mark_checked(c, feed["id"], context.fetched_at))
            return None
        assert content is not None
        digest = hashlib.sha256(content).hexdigest()
        if feed is not None and feed["digest"] == digest and feed["source"] == url:
            await context.store.write(lambda c: mark_checked(c, feed["id"], context.fetched_at))
            return None
        context.progress(f"loading the timetable ({len(content) // 1024} KiB)")

        def load(connection: Connection) -> dict[str, Any]:
            self._load(connection, context, FeedSource(self.name, 0, url, digest), content, summary)
            found = feed_row(connection, self.name)
            assert found is not None
            return found

        return await context.store.write(load)

    async def _fetch_static(self, context: RunContext, url: str, first: bool) -> bytes | None:
        """The feed zip's bytes; ``None`` if unchanged since the last good run."""
        if not url.startswith(("http://", "https://")):
            path = Path(unquote(urlparse(url).path) if url.startswith("file:") else url)
            try:
                return await anyio.to_thread.run_sync(path.read_bytes)
            except OSError as exc:
                raise SourceError(f"{url}: cannot read the GTFS feed: {exc}") from None
        conditional, context.conditional = context.conditional, not first
        try:
            response = await context.get(url)
        finally:
            context.conditional = conditional
        return None if response is None else response.content

    def _load(
        self,
        connection: Connection,
        context: RunContext,
        source: FeedSource,
        content: bytes,
        summary: GtfsSummary,
    ) -> Loaded:
        dataset_id = _ensure_dataset(connection, self.dataset, self.dataset_defaults)
        source = FeedSource(source.name, dataset_id, source.source, source.digest)
        loaded, written = save_timetable(
            connection,
            source,
            content,
            self.collection,
            context.fetched_at,
            self.new_collection_title,
        )
        summary.timetable_loaded = True
        summary.stop_times = loaded.counts["stop_times"]
        summary.trips = loaded.counts["trips"]
        summary.places_created = written.created
        summary.places_updated = written.updated
        summary.places_unchanged = written.unchanged
        summary.places_gone = written.gone
        return loaded

    async def _realtime(
        self, context: RunContext, feed: dict[str, Any], summary: GtfsSummary
    ) -> None:
        url = self.options.realtime_url
        assert url is not None
        response = await context.get(url)
        if response is None:
            summary.source_unchanged = not summary.timetable_loaded
            return
        try:
            parsed = realtime.parse(response.content)
        except FeedError as exc:
            raise SourceError(f"{url}: {exc}") from None
        zone = ZoneInfo(feed["timezone"])
        counts = await context.store.write(
            lambda c: realtime.save(c, feed["id"], zone, parsed, url, context.fetched_at)
        )
        summary.trip_updates = counts["trip_updates"]
        summary.stop_updates = counts["stop_updates"]
        summary.cancelled = counts["cancelled"]
        summary.skipped = counts["skipped"]
        summary.unmatched = counts["unmatched"]


def save_timetable(
    connection: Connection,
    source: FeedSource,
    content: bytes,
    collection: str,
    now: datetime,
    collection_title: str | None = None,
) -> tuple[Loaded, WriteSummary]:
    """Load the feed zip ``content`` as the timetable of ``source.name`` and write its located
    stops as features of ``collection`` (made if missing), in the caller's transaction: the
    one path by which a static feed comes in, for the connector and the demo alike."""
    try:
        zipped = FeedZip(content)
        try:
            loaded = load_feed(connection, source, zipped, now)
        finally:
            zipped.close()
    except FeedError as exc:
        raise SourceError(f"{source.source}: {exc}") from None
    collection_id = ensure_collection(
        connection,
        source.dataset_id,
        collection,
        key_property=KEY_PROPERTY,
        new_title=collection_title,
    )
    provenance = {"connector": source.name, "source": source.source, "fetched_at": now.isoformat()}
    records = [_feature(stop, source.name) for stop in loaded.stops if _located(stop)]
    written = write_features(
        connection, collection_id, records, provenance=provenance, mark_missing_gone=True
    )
    return loaded, written


def _located(stop: Stop) -> bool:
    return stop.lat is not None and stop.lon is not None


def _feature(stop: Stop, feed: str) -> FeatureRecord:
    properties = {
        KEY_PROPERTY: stop.stop_id,
        "name": stop.name,
        "code": stop.code,
        "platform_code": stop.platform_code,
        "location_type": stop.location_type,
        "parent_station": stop.parent_station,
        "feed": feed,
    }
    return FeatureRecord(
        {k: v for k, v in properties.items() if v is not None},
        {"type": "Point", "coordinates": [stop.lon, stop.lat]},
        stop.stop_id,
    )


def _ensure_dataset(connection: Connection, slug: str, defaults: dict[str, Any]) -> int:
    found = datasets.dataset_by_slug(connection, slug)
    if found is not None:
        return int(found["id"])
    try:
        return datasets.create_dataset(connection, **{"title": slug, **defaults, "slug": slug})
    except ApiError as exc:
        raise ConnectorError(
            f"the dataset '{slug}' does not exist and cannot be made from the connector's "
            f"defaults ({exc.message}); create it first with the feed's licence: "
            f"cityhub dataset create {slug} --title TITLE --licence LICENCE"
        ) from None
