"""Reading GTFS zips and static feed refreshes: layouts found in the wild, what is refused
with which message, conditional requests, a feed from a local path, and the live test."""

from __future__ import annotations

import os
import time

import pytest
from tests.connectors.gtfs_feeds import config, feed_zip
from tests.connectors.helpers import count, live

from cityhub.gtfs.feed import FeedError, FeedZip, parse_time
from cityhub.store import schema

ZIP = "application/zip"


@pytest.fixture
def dataset(hub):
    fields = {"slug": "oepnv", "title": "ÖPNV Musterstadt", "licence": "cc-by/4.0"}
    assert hub.post("/api/admin/datasets", fields).status_code == 201


def _trips(content: bytes) -> dict[str, list[tuple[int, str, int | None, int | None]]]:
    feed = FeedZip(content)
    try:
        return {
            trip[0].trip_id: [(s.stop_sequence, s.stop_id, s.arrival, s.departure) for s in trip]
            for trip in feed.stop_times()
        }
    finally:
        feed.close()


def test_times_past_midnight_count_on_from_the_service_day():
    assert parse_time("07:05:00") == 25_500
    assert parse_time("24:10:00") == 87_000
    assert parse_time(" 5:00:00") == 18_000
    assert parse_time("") is None
    with pytest.raises(ValueError, match="'7:00' is not a time HH:MM:SS"):
        parse_time("7:00")


def test_stop_times_between_timepoints_are_interpolated_and_sorted():
    times = "\n".join(
        [
            "trip_id,stop_id,stop_sequence,arrival_time,departure_time",
            "A,RATHAUS,30,08:30:00,",
            "A,HBF:1,10,08:00:00,08:01:00",
            "A,MARKT,20,,",
            "A,X,25,,",
        ]
    )
    trips = _trips(feed_zip({"stop_times.txt": times}))
    assert trips["A"] == [
        (10, "HBF:1", 28_800, 28_860),
        (20, "MARKT", 29_400, 29_400),
        (25, "X", 30_000, 30_000),
        (30, "RATHAUS", 30_600, 30_600),
    ]


def test_a_feed_in_a_folder_with_a_byte_order_mark_and_short_rows_is_read():
    times = "\ufefftrip_id,stop_id,stop_sequence,arrival_time,departure_time,pickup_type\n"
    times += "B,HBF:1,1,06:00:00,06:00:00\nB,MARKT,2,06:05:00,06:05:00,1\n\n"
    trips = _trips(feed_zip({"stop_times.txt": times}, folder="gtfs-2026-12/"))
    assert trips["B"] == [(1, "HBF:1", 21_600, 21_600), (2, "MARKT", 21_900, 21_900)]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"stops.txt": None}, "lacks stops.txt"),
        ({"calendar.txt": None, "calendar_dates.txt": None}, "calendar.txt or calendar_dates"),
    ],
)
def test_an_incomplete_zip_is_refused_with_what_it_lacks(changes, words):
    with pytest.raises(FeedError, match=words):
        FeedZip(feed_zip(changes))


def test_a_file_that_is_no_zip_is_refused():
    with pytest.raises(FeedError, match="not a GTFS zip"):
        FeedZip(b"<html>Bitte melden Sie sich an</html>")


def test_an_unknown_time_zone_names_the_line(hub, dataset, connectors):
    agency = "agency_name,agency_url,agency_timezone\nSWM,https://x.example,Europe/Musterstadt\n"
    made = connectors(config())
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip({"agency.txt": agency}), ZIP)
    outcome = made.run("bus")
    assert outcome.status == "failed"
    assert "agency.txt line 2: unknown time zone 'Europe/Musterstadt'" in outcome.error


def test_an_unchanged_feed_is_not_loaded_again(hub, dataset, connectors):
    made = connectors(config(static_every="1s"))
    made.source.etag = '"v1"'
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    assert made.run("bus").summary.timetable_loaded
    time.sleep(1.1)
    second = made.run("bus")
    assert second.status == "ok"
    assert not second.summary.timetable_loaded
    assert made.source.requests[-1].headers["If-None-Match"] == '"v1"'
    made.source.etag = '"v2"'  # a new ETag, the same bytes: compared by digest, not loaded
    time.sleep(1.1)
    third = made.run("bus")
    assert third.status == "ok"
    assert not third.summary.timetable_loaded
    assert count(hub, schema.gtfs_stop_times) == 17


def test_a_feed_from_a_local_path(hub, dataset, connectors, tmp_path):
    path = tmp_path / "musterstadt.zip"
    path.write_bytes(feed_zip())
    made = connectors(config(url=str(path)))
    outcome = made.run("bus")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.stop_times == 17
    assert made.source.requests == []
    missing = connectors({"bus2": {**config()["bus"], "url": str(tmp_path / "none.zip")}})
    failed = missing.run("bus2")
    assert failed.status == "failed"
    assert "cannot read the GTFS feed" in failed.error


def test_without_the_dataset_the_run_says_how_to_create_it(hub, connectors):
    made = connectors(config())
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    outcome = made.run("bus")
    assert outcome.status == "failed"
    assert "cityhub dataset create oepnv" in outcome.error


@live
def test_live_feed_loads_and_answers_departures(hub, dataset, connectors):
    url = os.environ.get(
        "CITYHUB_GTFS_LIVE_URL",
        "https://developers.google.com/static/transit/gtfs/examples/sample-feed.zip",
    )
    made = connectors(config(url=url), live=True)
    outcome = made.run("bus")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.stop_times > 0
    stop = hub.store.read_blocking(
        lambda c: c.execute(schema.gtfs_stop_times.select().limit(1)).mappings().first()["stop_id"]
    )
    response = hub.get("/departures", params={"stop": stop})
    assert response.status_code == 200
    assert "departures" in response.json()
