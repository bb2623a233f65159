"""A small GTFS feed of Musterstadt (tests/fixtures/gtfs/musterstadt) zipped on demand, and
GTFS-Realtime messages built with the protobuf bindings.

The feed: Thursday 2026-12-03 is a working day (service WD); on Friday 2026-12-25 the
working-day service is removed and the weekend service added (a holiday); service XMAS runs
on 2026-12-24 only. Trip N1 leaves HBF:2 at 23:50 and reaches MARKT at 24:10:00, the next
morning of its service day. S1 has no time at MARKT (interpolated: 08:10).
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from google.transit import gtfs_realtime_pb2 as rt

FEED_DIR = Path(__file__).parent.parent / "fixtures" / "gtfs" / "musterstadt"
STATIC_URL = "https://transit.example/gtfs/musterstadt.zip"
REALTIME_URL = "https://transit.example/gtfs-rt/tripupdates.pb"


def feed_zip(changes: dict[str, str | None] | None = None, folder: str = "") -> bytes:
    """The fixture feed as a zip; ``changes`` replaces files by name (``None`` leaves one out)."""
    files = {path.name: path.read_bytes() for path in sorted(FEED_DIR.iterdir())}
    for name, content in (changes or {}).items():
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(folder + name, content)
    return buffer.getvalue()


def config(**options: Any) -> dict[str, dict[str, Any]]:
    base = {"type": "gtfs", "url": STATIC_URL, "dataset": "oepnv", "collection": "haltestellen"}
    return {"bus": {**base, **options}}


def trip_updates(timestamp: datetime, *updates: dict[str, Any]) -> bytes:
    """A FeedMessage of TripUpdates, each given as a dict:
    ``trip_id``, ``start_date``, ``cancelled``, ``delay`` and ``stops``, a list of dicts with
    ``sequence``, ``stop_id``, ``delay``, ``time``, ``skipped``."""
    message = rt.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.timestamp = int(timestamp.timestamp())
    for number, item in enumerate(updates):
        entity = message.entity.add()
        entity.id = f"e{number}"
        update = entity.trip_update
        update.trip.trip_id = item["trip_id"]
        if "start_date" in item:
            update.trip.start_date = item["start_date"]
        if item.get("cancelled"):
            update.trip.schedule_relationship = rt.TripDescriptor.CANCELED
        if "delay" in item:
            update.delay = item["delay"]
        for stop in item.get("stops", []):
            stop_update = update.stop_time_update.add()
            if "sequence" in stop:
                stop_update.stop_sequence = stop["sequence"]
            if "stop_id" in stop:
                stop_update.stop_id = stop["stop_id"]
            if stop.get("skipped"):
                stop_update.schedule_relationship = rt.TripUpdate.StopTimeUpdate.SKIPPED
            if "delay" in stop:
                stop_update.departure.delay = stop["delay"]
            if "time" in stop:
                stop_update.departure.time = stop["time"]
    return message.SerializeToString()
