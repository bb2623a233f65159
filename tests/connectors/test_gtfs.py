"""The GTFS connector and the departures API, on both backends: a timetable loaded through a
connector run, departures across midnight and on holidays, realtime delays, cancellations
and skipped stops, restricted datasets, and the errors a client can cause."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from tests.connectors.gtfs_feeds import REALTIME_URL, config, feed_zip, trip_updates
from tests.connectors.helpers import count, features_of

from cityhub.store import schema
from conftest import HubClient

BERLIN = ZoneInfo("Europe/Berlin")
ZIP = "application/zip"
PROTOBUF = "application/x-protobuf"


@pytest.fixture(autouse=True)
def dataset(hub):
    """The dataset of the feed, made first as an operator does (with the feed's licence)."""
    fields = {"slug": "oepnv", "title": "ÖPNV Musterstadt", "licence": "cc-by/4.0"}
    created = hub.post("/api/admin/datasets", fields)
    assert created.status_code == 201, created.text


def _local(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp())


def _loaded(connectors, **options):
    made = connectors(config(**options))
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    outcome = made.run("bus")
    assert outcome.status == "ok", outcome.error
    return made, outcome


def _board(hub, stop: str, at: str, limit: int = 10, **params) -> list[dict]:
    query = {"stop": stop, "at": at, "limit": limit, **params}
    response = hub.get("/departures", params=query)
    assert response.status_code == 200, response.text
    return response.json()["departures"]


def _times(departures: list[dict]) -> list[tuple[str, str]]:
    return [(d["trip_id"], d["scheduled"]) for d in departures]


def test_a_run_loads_the_timetable_and_writes_stops_as_features(hub, connectors):
    made, outcome = _loaded(connectors)
    assert outcome.summary.timetable_loaded
    assert outcome.summary.stop_times == 17
    assert outcome.summary.trips == 6
    assert outcome.summary.places_created == 5
    stops = features_of(hub, "haltestellen")
    assert set(stops) == {"HBF", "HBF:1", "HBF:2", "MARKT", "RATHAUS"}
    assert stops["HBF:1"]["properties"]["platform_code"] == "1"
    assert stops["HBF:1"]["properties"]["parent_station"] == "HBF"
    assert stops["MARKT"]["provenance"]["connector"] == "bus"
    assert count(hub, schema.gtfs_stop_times) == 17

    again = made.run("bus")
    assert again.status == "ok"
    assert not again.summary.timetable_loaded  # checked at most once a day
    assert count(hub, schema.gtfs_stop_times) == 17


def test_a_new_feed_version_replaces_the_old_and_marks_missing_stops_gone(hub, connectors):
    made, _ = _loaded(connectors, static_every="1s")
    lines = (
        "stop_id,stop_name,stop_lat,stop_lon\n"
        "HBF:1,Musterstadt Hbf,51.43,7.66\nMARKT,Markt,51.435,7.67\nRATHAUS,Rathaus,51.44,7.68\n"
    )
    times = "\n".join(
        [
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence",
            "T1,07:00:00,07:00:00,HBF:1,1",
            "T1,07:06:00,07:06:00,MARKT,2",
            "T1,07:10:00,07:10:00,RATHAUS,3",
        ]
    )
    trips = "route_id,service_id,trip_id,trip_headsign\nR1,WD,T1,Rathaus\n"
    changed = feed_zip({"stops.txt": lines, "stop_times.txt": times, "trips.txt": trips})
    made.source.answer("/gtfs/musterstadt.zip", 200, changed, ZIP)
    time.sleep(1.1)  # static_every has passed
    outcome = made.run("bus")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.timetable_loaded
    assert outcome.summary.places_gone == 2
    assert count(hub, schema.gtfs_stop_times) == 3
    gone = {key for key, f in features_of(hub, "haltestellen").items() if f["gone_at"]}
    assert gone == {"HBF", "HBF:2"}
    assert _times(_board(hub, "MARKT", "2026-12-03T06:00:00+01:00")) == [
        ("T1", "2026-12-03T07:06:00+01:00")
    ]


def test_a_broken_feed_fails_the_run_and_keeps_the_timetable(hub, connectors):
    made, _ = _loaded(connectors, static_every="1s")
    broken = feed_zip({"stop_times.txt": "trip_id,stop_id\nT1,MARKT\n"})
    made.source.answer("/gtfs/musterstadt.zip", 200, broken, ZIP)
    time.sleep(1.1)  # static_every has passed
    outcome = made.run("bus")
    assert outcome.status == "failed"
    assert "stop_times.txt" in outcome.error
    assert "stop_sequence" in outcome.error
    assert count(hub, schema.gtfs_stop_times) == 17
    assert len(_board(hub, "MARKT", "2026-12-03T06:00:00+01:00")) == 4


def test_departures_in_order_with_route_headsign_and_interpolated_times(hub, connectors):
    _loaded(connectors)
    board = _board(hub, "MARKT", "2026-12-03T06:00:00+01:00")
    assert _times(board) == [
        ("T1", "2026-12-03T07:05:00+01:00"),
        ("T2", "2026-12-03T07:35:00+01:00"),
        ("S1", "2026-12-03T08:10:00+01:00"),
        ("N1", "2026-12-04T00:10:00+01:00"),
    ]
    first = board[0]
    assert first["route"] == "1"
    assert first["headsign"] == "Rathaus"
    assert first["service_date"] == "2026-12-03"
    assert first["delay"] is None
    assert first["realtime"] is False
    assert board[2]["route"] == "S-Bahn Hbf - Rathaus"  # no short name: the long one
    assert board[2]["headsign"] == "Rathaus via Markt"  # the stop's own headsign
    assert board[2]["route_type"] == 2
    assert _board(hub, "MARKT", "2026-12-03T06:00:00+01:00", limit=2) == board[:2]


def test_times_past_midnight_belong_to_the_previous_service_day(hub, connectors):
    _loaded(connectors)
    board = _board(hub, "MARKT", "2026-12-04T00:05:00+01:00", limit=2)
    assert _times(board) == [
        ("N1", "2026-12-04T00:10:00+01:00"),
        ("T1", "2026-12-04T07:05:00+01:00"),
    ]
    assert board[0]["service_date"] == "2026-12-03"
    assert board[1]["service_date"] == "2026-12-04"
    # Sunday night: no working-day service on Sunday, so nothing at 00:10 on Monday
    monday = _board(hub, "MARKT", "2026-12-07T00:00:00+01:00", limit=1)
    assert _times(monday) == [("T1", "2026-12-07T07:05:00+01:00")]


def test_holidays_follow_calendar_dates(hub, connectors):
    _loaded(connectors)
    christmas = _board(hub, "MARKT", "2026-12-25T06:00:00", limit=2)
    # the weekend timetable on a Friday holiday; departures are looked for 24 hours ahead
    assert _times(christmas) == [("T3", "2026-12-25T09:05:00+01:00")]
    eve = _board(hub, "HBF", "2026-12-24T11:00:00+01:00", limit=1)
    assert _times(eve) == [("X1", "2026-12-24T12:00:00+01:00")]
    ordinary = _board(hub, "HBF", "2026-12-03T11:00:00+01:00", limit=1)
    assert _times(ordinary) == [("N1", "2026-12-03T23:50:00+01:00")]


def test_a_station_lists_its_platforms_and_a_last_stop_has_no_departures(hub, connectors):
    _loaded(connectors)
    response = hub.get("/departures", params={"stop": "HBF", "at": "2026-12-03T06:00:00+01:00"})
    body = response.json()
    assert body["stop"]["platforms"] == ["HBF:1", "HBF:2"]
    assert body["stop"]["timezone"] == "Europe/Berlin"
    platforms = [(d["trip_id"], d["stop_id"], d["platform"]) for d in body["departures"]]
    assert platforms == [
        ("T1", "HBF:1", "1"),
        ("T2", "HBF:1", "1"),
        ("S1", "HBF:2", "Musterstadt Hbf Gleis 2"),
        ("N1", "HBF:2", "Musterstadt Hbf Gleis 2"),
    ]
    assert _board(hub, "RATHAUS", "2026-12-03T06:00:00+01:00") == []
    only_two = _board(hub, "HBF:2", "2026-12-03T06:00:00+01:00")
    assert [d["trip_id"] for d in only_two] == ["S1", "N1"]


def test_realtime_delays_cancellations_and_skipped_stops(hub, connectors):
    n1_at_markt = _local("2026-12-04T00:10:00")
    message = trip_updates(
        datetime.fromisoformat("2026-12-03T06:55:00+01:00"),
        {"trip_id": "T1", "stops": [{"sequence": 1, "delay": 120}]},
        {"trip_id": "T2", "cancelled": True},
        {"trip_id": "S1", "stops": [{"stop_id": "MARKT", "skipped": True}]},
        {
            "trip_id": "N1",
            "start_date": "20261203",
            "stops": [{"stop_id": "MARKT", "time": n1_at_markt + 180}],
        },
        {"trip_id": "NOT-IN-TIMETABLE", "stops": [{"stop_id": "MARKT", "delay": 60}]},
    )
    made = connectors(config(realtime_url=REALTIME_URL))
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    made.source.answer("/gtfs-rt/tripupdates.pb", 200, message, PROTOBUF)
    outcome = made.run("bus")
    assert outcome.status == "ok", outcome.error
    summary = outcome.summary
    assert (summary.trip_updates, summary.cancelled, summary.skipped) == (5, 1, 1)
    assert summary.unmatched == 1

    body = hub.get(
        "/departures", params={"stop": "MARKT", "at": "2026-12-03T06:00:00+01:00"}
    ).json()
    assert body["realtime_timestamp"] == "2026-12-03T06:55:00+01:00"
    by_trip = {d["trip_id"]: d for d in body["departures"]}
    t1 = by_trip["T1"]  # 120 s late at the first stop, so at MARKT too
    assert (t1["delay"], t1["realtime"]) == (120, True)
    assert t1["estimated"] == "2026-12-03T07:07:00+01:00"
    t2 = by_trip["T2"]
    assert t2["cancelled"]
    assert t2["estimated"] is None
    assert not t2["skipped"]
    s1 = by_trip["S1"]
    assert s1["skipped"]
    assert not s1["cancelled"]
    assert s1["estimated"] is None
    n1 = by_trip["N1"]
    assert (n1["delay"], n1["estimated"]) == (180, "2026-12-04T00:13:00+01:00")
    # the realtime update is for the service day 2026-12-03 only
    next_night = _board(hub, "MARKT", "2026-12-05T00:00:00+01:00", limit=1)
    assert next_night[0]["trip_id"] == "N1"
    assert next_night[0]["delay"] is None


def test_a_delayed_departure_scheduled_just_before_is_still_shown(hub, connectors):
    message = trip_updates(
        datetime.fromisoformat("2026-12-03T07:06:00+01:00"),
        {"trip_id": "T1", "stops": [{"sequence": 2, "delay": 300}]},
    )
    made = connectors(config(realtime_url=REALTIME_URL))
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    made.source.answer("/gtfs-rt/tripupdates.pb", 200, message, PROTOBUF)
    assert made.run("bus").status == "ok"
    board = _board(hub, "MARKT", "2026-12-03T07:06:00+01:00", limit=2)
    assert [(d["trip_id"], d["estimated"]) for d in board] == [
        ("T1", "2026-12-03T07:10:00+01:00"),
        ("T2", None),
    ]


def test_the_next_realtime_feed_replaces_the_previous(hub, connectors):
    first = trip_updates(datetime(2026, 12, 3, 6, 0), {"trip_id": "T2", "cancelled": True})
    made = connectors(config(realtime_url=REALTIME_URL))
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    made.source.answer("/gtfs-rt/tripupdates.pb", 200, first, PROTOBUF)
    assert made.run("bus").status == "ok"
    second = trip_updates(
        datetime(2026, 12, 3, 6, 1), {"trip_id": "T1", "stops": [{"sequence": 2, "delay": 60}]}
    )
    made.source.answer("/gtfs-rt/tripupdates.pb", 200, second, PROTOBUF)
    outcome = made.run("bus")
    assert outcome.status == "ok"
    assert not outcome.summary.timetable_loaded
    board = _board(hub, "MARKT", "2026-12-03T06:00:00+01:00", limit=2)
    assert [(d["trip_id"], d["delay"], d["cancelled"]) for d in board] == [
        ("T1", 60, False),
        ("T2", None, False),
    ]
    assert count(hub, schema.gtfs_rt_trips) == 1


def test_a_realtime_feed_that_is_not_protobuf_fails_the_run(hub, connectors):
    made = connectors(config(realtime_url=REALTIME_URL))
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    made.source.answer("/gtfs-rt/tripupdates.pb", 200, b"<html>Wartung</html>", "text/html")
    outcome = made.run("bus")
    assert outcome.status == "failed"
    assert REALTIME_URL in outcome.error
    assert "GTFS-Realtime" in outcome.error


def test_a_feed_in_a_restricted_dataset_is_invisible_without_access(hub, connectors):
    changed = hub.patch("/api/admin/datasets/oepnv", {"visibility": "restricted"})
    assert changed.status_code == 200, changed.text
    _loaded(connectors)
    params = {"stop": "MARKT", "at": "2026-12-03T06:00:00+01:00"}
    hidden = hub.get("/departures", params=params)
    assert hidden.status_code == 404
    assert "no stop 'MARKT'" in hidden.json()["message"]
    shown = hub.get("/departures", params=params, headers=hub.admin)
    assert shown.status_code == 200
    assert len(shown.json()["departures"]) == 4
    kiosk = {"role": "reader", "name": "kiosk", "dataset": "oepnv"}
    token = hub.post("/api/admin/tokens", kiosk).json()["token"]
    bound = hub.get("/departures", params=params, headers={"Authorization": f"Bearer {token}"})
    assert bound.status_code == 200
    assert len(bound.json()["departures"]) == 4
    other = {"slug": "andere", "title": "Andere", "licence": "cc-by/4.0"}
    assert hub.post("/api/admin/datasets", other).status_code == 201
    stranger = {"role": "reader", "name": "stranger", "dataset": "andere"}
    token = hub.post("/api/admin/tokens", stranger).json()["token"]
    refused = hub.get("/departures", params=params, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 404


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({}, 400, "?stop=ID"),
        ({"stop": "NOWHERE"}, 404, "no stop 'NOWHERE'"),
        ({"stop": "MARKT", "limit": "zehn"}, 400, "limit must be a whole number"),
        ({"stop": "MARKT", "limit": "0"}, 400, "from 1 to 100"),
        ({"stop": "MARKT", "at": "morgen"}, 400, "at must be an ISO 8601 time"),
        ({"stop": "MARKT", "feed": "tram"}, 404, "in the feed 'tram'"),
    ],
)
def test_errors_say_what_is_wrong(hub, connectors, params, status, words):
    _loaded(connectors)
    response = hub.get("/departures", params=params)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == status
    assert words in body["message"]


def test_an_unencoded_plus_in_the_offset_and_local_times_are_understood(hub, connectors):
    _loaded(connectors)
    spaced = hub.get("/departures?stop=MARKT&limit=1&at=2026-12-03T07:10:00+01:00").json()
    local = hub.get("/departures?stop=MARKT&limit=1&at=2026-12-03T07:10:00").json()
    assert spaced["at"] == local["at"] == "2026-12-03T07:10:00+01:00"
    assert spaced["departures"][0]["trip_id"] == "T2"


def test_a_busy_stop_looks_a_day_ahead_when_the_next_hours_are_empty(hub, connectors):
    header = "trip_id,arrival_time,departure_time,stop_id,stop_sequence"
    lines, trips = [header], ["route_id,service_id,trip_id,trip_headsign"]
    for number in range(300):  # every 30 s from 06:00 to 08:30: a busy morning, then nothing
        at = 6 * 3600 + number * 30
        clock = f"{at // 3600:02d}:{at // 60 % 60:02d}:{at % 60:02d}"
        lines += [f"B{number},{clock},{clock},MARKT,1", f"B{number},{clock},{clock},RATHAUS,2"]
        trips.append(f"R1,WD,B{number},Rathaus")
    changes = {"stop_times.txt": "\n".join(lines) + "\n", "trips.txt": "\n".join(trips) + "\n"}
    made = connectors(config())
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(changes), ZIP)
    assert made.run("bus").status == "ok"
    evening = _board(hub, "MARKT", "2026-12-03T20:00:00+01:00", limit=3)
    assert _times(evening) == [
        ("B0", "2026-12-04T06:00:00+01:00"),
        ("B1", "2026-12-04T06:00:30+01:00"),
        ("B2", "2026-12-04T06:01:00+01:00"),
    ]
    morning = _board(hub, "MARKT", "2026-12-03T07:00:00+01:00", limit=2)
    assert _times(morning) == [
        ("B120", "2026-12-03T07:00:00+01:00"),
        ("B121", "2026-12-03T07:00:30+01:00"),
    ]


def test_on_the_day_clocks_change_times_stay_as_printed(hub, connectors):
    _loaded(connectors)
    spring = _board(hub, "MARKT", "2027-03-28T00:00:00+01:00", limit=1)  # a Sunday
    assert _times(spring) == [("T3", "2027-03-28T09:05:00+02:00")]
    autumn = _board(hub, "MARKT", "2027-10-31T00:00:00+02:00", limit=1)
    assert _times(autumn) == [("T3", "2027-10-31T09:05:00+01:00")]


def test_a_feed_with_calendar_dates_only(hub, connectors):
    dates = "service_id,date,exception_type\nWD,20261203,1\n"
    made = connectors(config())
    changes = {"calendar.txt": None, "calendar_dates.txt": dates}
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(changes), ZIP)
    assert made.run("bus").status == "ok"
    board = _board(hub, "MARKT", "2026-12-03T06:00:00+01:00", limit=10)
    assert [d["trip_id"] for d in board] == ["T1", "T2", "S1", "N1"]
    assert _board(hub, "MARKT", "2026-12-04T06:00:00+01:00") == []


def test_a_stop_in_two_feeds_needs_the_feed_named(hub, connectors):
    made = connectors({**config(), "tram": {**config()["bus"], "collection": "tram"}})
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    assert made.run("bus").status == "ok"
    assert made.run("tram").status == "ok"
    both = hub.get("/departures", params={"stop": "MARKT"})
    assert both.status_code == 400
    assert "in several feeds (bus, tram): add &feed=NAME" in both.json()["message"]
    one = _board(hub, "MARKT", "2026-12-03T06:00:00+01:00", feed="tram")
    assert len(one) == 4


def test_the_run_is_recorded_and_described(hub, connectors):
    made, outcome = _loaded(connectors)
    line = outcome.summary.describe()
    assert line.startswith("timetable loaded: 6 trips, 17 stop times; places: 5 new")
    runs = hub.portal.call(made.service.runs, "bus")
    assert runs[0]["status"] == "ok"
    assert runs[0]["summary"]["places_created"] == 5
    status = hub.portal.call(made.service.status)
    assert status["bus"]["problem"] is None


def test_another_api_process_sees_the_same_realtime_updates(hub, connectors):
    message = trip_updates(datetime(2026, 12, 3, 6, 0), {"trip_id": "T2", "cancelled": True})
    made = connectors(config(realtime_url=REALTIME_URL))
    made.source.answer("/gtfs/musterstadt.zip", 200, feed_zip(), ZIP)
    made.source.answer("/gtfs-rt/tripupdates.pb", 200, message, PROTOBUF)
    assert made.run("bus").status == "ok"
    other = HubClient(hub.settings)
    try:
        response = other.get("/departures", params={"stop": "MARKT", "at": "2026-12-03T07:30"})
    finally:
        other.close()
    first = response.json()["departures"][0]
    assert (first["trip_id"], first["cancelled"]) == ("T2", True)


def test_deleting_the_dataset_removes_the_timetable(hub, connectors):
    _loaded(connectors)
    deleted = hub.delete("/api/admin/datasets/oepnv", params={"with_content": "true"})
    assert deleted.status_code == 204, deleted.text
    assert count(hub, schema.gtfs_stop_times) == 0
    assert count(hub, schema.gtfs_feeds) == 0
    assert hub.get("/departures", params={"stop": "MARKT"}).status_code == 404


def test_the_departures_api_is_in_the_openapi_document(hub):
    document = hub.get("/api/openapi.json").json()
    operation = document["paths"]["/departures"]["get"]
    names = [p["name"] for p in operation["parameters"]]
    assert names == ["stop", "limit", "at", "feed"]
