"""Aggregation over time buckets (``Datastreams(n)/Observations/$aggregate``), both backends.

Expected figures are computed here in Python from the Observations the test created.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from cityhub.sensorthings.buckets import Grid, parse_interval

from .helpers import OBSERVATION, V, create_thing, datastream_body, observation
from .test_multidatastream import multi_body, only_id, thing_with

START = datetime(2024, 1, 1, tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _series(count: int, step: timedelta) -> list[tuple[datetime, float | int]]:
    """Observations every ``step`` from START: integers and floats, positive and negative."""
    values: list[tuple[datetime, float | int]] = []
    for index in range(count):
        value = (index * 37) % 101 - 20 if index % 3 else ((index * 13) % 71) / 7
        values.append((START + index * step, value))
    return values


def _create(hub, points, observation_type=None) -> int:
    extra = {} if observation_type is None else {"observation_type": observation_type}
    bodies = [observation(value, _iso(time)) for time, value in points]
    seeded = create_thing(hub, datastreams=[datastream_body("series", bodies, **extra)])
    return seeded.datastreams[0]


def _aggregate(hub, datastream: int, **params: str):
    return hub.get(f"{V}/Datastreams({datastream})/Observations/$aggregate", params=params)


def _expected(points, start: datetime, end: datetime) -> dict:
    numbers = [v for t, v in points if start <= t < end and isinstance(v, int | float)]
    count = sum(1 for t, _ in points if start <= t < end)
    if not numbers:
        return {"count": count, "min": None, "max": None, "avg": None, "sum": None}
    return {
        "count": count,
        "min": min(numbers),
        "max": max(numbers),
        "avg": pytest.approx(sum(numbers) / len(numbers)),
        "sum": pytest.approx(sum(numbers)),
    }


def _interval(bucket: dict) -> tuple[datetime, datetime]:
    start, end = bucket["phenomenonTime"].split("/")
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


@pytest.mark.parametrize(
    ("interval", "step", "buckets"),
    [("PT15M", timedelta(minutes=15), 192), ("PT1H", timedelta(hours=1), 48), ("P1D", None, 2)],
)
def test_every_function_matches_python(hub, interval, step, buckets):
    points = _series(288, timedelta(minutes=10))  # two days
    datastream = _create(hub, points)
    end = START + timedelta(days=2)
    response = _aggregate(
        hub,
        datastream,
        interval=interval,
        phenomenonTime=f"{_iso(START)}/{_iso(end)}",
        **{"$top": "1000"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "@iot.nextLink" not in body
    assert len(body["value"]) == buckets
    step = step or timedelta(days=1)
    for index, bucket in enumerate(body["value"]):
        bucket_start, bucket_end = START + index * step, START + (index + 1) * step
        assert _interval(bucket) == (bucket_start, bucket_end)
        expected = _expected(points, bucket_start, bucket_end)
        assert {k: bucket[k] for k in expected} == expected, bucket
    assert sum(bucket["count"] for bucket in body["value"]) == 288


def test_empty_buckets_are_present_with_count_zero_and_nulls(hub):
    points = [(START + timedelta(minutes=30), 5.0), (START + timedelta(hours=3), 7)]
    datastream = _create(hub, points)
    response = _aggregate(
        hub, datastream, interval="PT1H", phenomenonTime="2024-01-01T00:00:00Z/2024-01-01T04:00:00Z"
    )
    assert response.status_code == 200, response.text
    counts = [bucket["count"] for bucket in response.json()["value"]]
    assert counts == [1, 0, 0, 1]
    empty = response.json()["value"][1]
    assert empty == {
        "phenomenonTime": "2024-01-01T01:00:00Z/2024-01-01T02:00:00Z",
        "count": 0,
        "min": None,
        "max": None,
        "avg": None,
        "sum": None,
    }


def test_range_start_is_inclusive_and_end_exclusive(hub):
    points = [
        (START - timedelta(microseconds=1), 100.0),
        (START, 1.0),
        (START + timedelta(hours=1), 2.0),  # starts the second bucket
        (START + timedelta(hours=2) - timedelta(microseconds=1), 3.0),
        (START + timedelta(hours=2), 1000.0),  # the range's end: left out
    ]
    datastream = _create(hub, points)
    response = _aggregate(
        hub, datastream, interval="PT1H", phenomenonTime="2024-01-01T00:00:00Z/2024-01-01T02:00:00Z"
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["value"]
    assert (first["count"], first["sum"]) == (1, 1.0)
    assert (second["count"], second["min"], second["max"]) == (2, 2.0, 3.0)


def test_last_bucket_is_cut_at_the_range_end(hub):
    datastream = _create(hub, [(START, 1.0)])
    response = _aggregate(
        hub, datastream, interval="PT1H", phenomenonTime="2024-01-01T00:00:00Z/2024-01-01T01:30:00Z"
    )
    times = [bucket["phenomenonTime"] for bucket in response.json()["value"]]
    assert times == [
        "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z",
        "2024-01-01T01:00:00Z/2024-01-01T01:30:00Z",
    ]


@pytest.mark.parametrize(
    ("local_day", "hours", "utc_day"),
    [
        ("2024-03-31", 23, "2024-03-30T23:00:00Z/2024-03-31T22:00:00Z"),
        ("2024-10-27", 25, "2024-10-26T22:00:00Z/2024-10-27T23:00:00Z"),
    ],
)
def test_calendar_days_follow_daylight_saving_time(hub, local_day, hours, utc_day):
    """A Berlin day has 23 hours in March and 25 in October; hourly data shows it."""
    day_start = datetime.fromisoformat(utc_day.split("/")[0])
    first = day_start - timedelta(hours=24)
    points = [(first + timedelta(hours=h), float(h)) for h in range(24 + hours + 24)]
    datastream = _create(hub, points)
    berlin = ZoneInfo("Europe/Berlin")
    local = datetime.fromisoformat(local_day).replace(tzinfo=berlin)
    range_start = (local - timedelta(days=1)).isoformat()
    range_end = (local + timedelta(days=2)).replace(tzinfo=berlin).isoformat()
    response = _aggregate(
        hub,
        datastream,
        interval="P1D",
        timeZone="Europe/Berlin",
        phenomenonTime=f"{range_start}/{range_end}",
    )
    assert response.status_code == 200, response.text
    before, day, after = response.json()["value"]
    assert day["phenomenonTime"] == utc_day
    assert (before["count"], day["count"], after["count"]) == (24, hours, 24)
    assert day["min"] == 24.0
    assert day["max"] == 24.0 + hours - 1


def test_calendar_months_and_weeks_in_a_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2024, 1, 1, tzinfo=berlin).astimezone(UTC)
    end = datetime(2024, 4, 1, tzinfo=berlin).astimezone(UTC)
    grid = Grid(start, end, parse_interval("P1M"), berlin)
    assert grid.count() == 3
    assert [(s.isoformat(), e.isoformat()) for s, e in pairwise(grid.edges(1, 3))] == [
        ("2024-01-31T23:00:00+00:00", "2024-02-29T23:00:00+00:00"),
        ("2024-02-29T23:00:00+00:00", "2024-03-31T22:00:00+00:00"),
    ]
    end_of_january = datetime(2024, 1, 31, tzinfo=UTC)
    months = Grid(end_of_january, datetime(2024, 6, 1, tzinfo=UTC), parse_interval("P1M"), UTC)
    assert [months.boundary(k).day for k in range(4)] == [31, 29, 31, 30]
    weeks = Grid(start, end, parse_interval("P1W"), berlin)
    assert weeks.count() == 13  # 91 days: 13 weeks exactly
    assert weeks.boundary(13) == end


def test_non_numeric_results_are_counted_but_not_computed(hub):
    results = [1, 2.5, "text", True, {"a": 1}, [3]]
    points = [(START + timedelta(minutes=i), value) for i, value in enumerate(results)]
    points.append((START + timedelta(hours=1), "only text in the second hour"))
    datastream = _create(hub, points, observation_type=OBSERVATION)
    response = _aggregate(
        hub, datastream, interval="PT1H", phenomenonTime="2024-01-01T00:00:00Z/2024-01-01T02:00:00Z"
    )
    assert response.status_code == 200, response.text
    bucket, text_only = response.json()["value"]
    assert bucket["count"] == len(results)
    assert (bucket["min"], bucket["max"], bucket["sum"], bucket["avg"]) == (1, 2.5, 3.5, 1.75)
    assert text_only["count"] == 1
    assert [text_only[name] for name in ("min", "max", "avg", "sum")] == [None] * 4


def test_filter_and_select_apply(hub):
    points = _series(12, timedelta(minutes=10))
    datastream = _create(hub, points)
    response = _aggregate(
        hub,
        datastream,
        interval="PT1H",
        phenomenonTime="2024-01-01T00:00:00Z/2024-01-01T02:00:00Z",
        **{"$filter": "result gt 10", "$select": "avg,count"},
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["value"]
    assert set(first) == {"phenomenonTime", "count", "avg"}
    high = [(t, v) for t, v in points if v > 10]
    assert first["count"] == _expected(high, START, START + timedelta(hours=1))["count"]
    assert (
        second["avg"]
        == _expected(high, START + timedelta(hours=1), START + timedelta(hours=2))["avg"]
    )
    through_relation = _aggregate(
        hub,
        datastream,
        interval="PT2H",
        phenomenonTime="2024-01-01T00:00:00Z/2024-01-01T02:00:00Z",
        **{"$filter": "FeatureOfInterest/name eq 'nowhere' or Datastream/name eq 'series'"},
    )
    assert [bucket["count"] for bucket in through_relation.json()["value"]] == [12]


def test_pages_follow_next_links_and_count(hub):
    datastream = _create(hub, _series(30, timedelta(hours=1)))
    params = {"interval": "PT1H", "phenomenonTime": "2024-01-01T00:00:00Z/2024-01-02T06:00:00Z"}
    whole = _aggregate(hub, datastream, **params, **{"$top": "1000"}).json()["value"]
    assert len(whole) == 30
    first = _aggregate(hub, datastream, **params, **{"$TOP": "12", "$count": "true"}).json()
    assert first["@iot.count"] == 30
    pages = [first["value"]]
    link = first["@iot.nextLink"]
    assert "$skip=12" in link
    assert "$top=12" in link
    assert "interval=PT1H" in link
    while link:
        page = hub.get(link.removeprefix("http://testserver")).json()
        pages.append(page["value"])
        link = page.get("@iot.nextLink")
    assert [len(page) for page in pages] == [12, 12, 6]
    assert [bucket for page in pages for bucket in page] == whole
    beyond = _aggregate(hub, datastream, **params, **{"$skip": "40"}).json()
    assert beyond == {"value": []}
    counted_only = _aggregate(hub, datastream, **params, **{"$top": "0", "$count": "true"})
    assert counted_only.json() == {"@iot.count": 30, "value": []}


def test_too_many_buckets_is_400_with_the_limit(hub):
    datastream = _create(hub, [(START, 1.0)])
    response = _aggregate(
        hub, datastream, interval="PT1S", phenomenonTime="2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert "86400 buckets" in message
    assert "10000" in message


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"interval": "1H"}, "invalid duration"),
        ({"interval": "PT"}, "invalid duration"),
        ({"interval": "P1DT1H"}, "mixes calendar units"),
        ({"interval": "PT0S"}, "shorter than one second"),
        ({"interval": "PT99999999999999999999H"}, "longer than any range"),
        ({"interval": "P99999999999Y"}, "longer than any range"),
        ({"interval": "P3000Y", "phenomenonTime": "9000-01-01T00:00:00Z/P1D"}, "year 9999"),
        ({"timeZone": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"phenomenonTime": "2024-01-02T00:00:00Z/2024-01-01T00:00:00Z"}, "end is before start"),
        ({"phenomenonTime": "2024-01-01T00:00:00Z"}, "give a range start/end"),
        ({"phenomenonTime": "2024-01-01T00:00:00Z/2024-01-01T00:00:00Z"}, "end after start"),
        ({"phenomenonTime": "yesterday/today"}, "phenomenonTime: invalid date-time"),
        ({"interval": ""}, "needs interval"),
        ({"$select": "median"}, "'median' is not a property of a bucket"),
        ({"zone": "UTC"}, "does not take 'zone'"),
        ({"$orderby": "phenomenonTime"}, "does not take '$orderby'"),
        ({"$filter": "result gt"}, "$filter"),
        ({"$top": "-1"}, "$top"),
    ],
)
def test_bad_input_is_400_saying_what(hub, params, fragment):
    datastream = _create(hub, [(START, 1.0)])
    query = {"interval": "PT1H", "phenomenonTime": "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"}
    query.update(params)
    response = _aggregate(hub, datastream, **query)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 400
    assert body["type"] == "error"
    assert fragment in body["message"]


def test_unknown_datastream_is_404(hub):
    query = {"interval": "PT1H", "phenomenonTime": "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"}
    response = _aggregate(hub, 4711, **query)
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "type": "error",
        "message": "no Datastream with @iot.id 4711 at Datastreams(4711)",
    }
    assert hub.get(f"{V}/Datastreams(x)/Observations/$aggregate", params=query).status_code == 400


def test_only_get_is_allowed(sqlite_hub):
    response = sqlite_hub.post(f"{V}/Datastreams(1)/Observations/$aggregate", {})
    assert response.status_code == 405
    assert response.json()["type"] == "error"


def test_openapi_describes_the_aggregation(sqlite_hub):
    document = sqlite_hub.get("/api/openapi.json").json()
    assert "get" in document["paths"]["/v1.1/MultiDatastreams({id})/Observations/$aggregate"]
    operation = document["paths"]["/v1.1/Datastreams({id})/Observations/$aggregate"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"id", "interval", "phenomenonTime", "timeZone", "$filter", "$top"} <= names
    bucket = document["components"]["schemas"]["AggregateBucket"]
    assert {"phenomenonTime", "count", "min", "max", "avg", "sum"} == set(bucket["properties"])


# --- MultiDatastreams ------------------------------------------------------------------------


def test_multi_datastream_gives_one_figure_per_component(hub):
    """Temperature and humidity aggregate component by component; wind direction (a category)
    has no numbers, so its figures are null while every Observation still counts."""
    observations = [
        observation([20.5, 60, "NW"], "2024-01-01T10:00:00Z"),
        observation([21.0, 58, "W"], "2024-01-01T10:30:00Z"),
        observation([19.0, 61, "N"], "2024-01-01T11:10:00Z"),
    ]
    thing = thing_with(hub, multi_body(observations=observations))
    multi = only_id(hub, f"{V}/Things({thing})/MultiDatastreams")
    response = hub.get(
        f"{V}/MultiDatastreams({multi})/Observations/$aggregate",
        params={
            "interval": "PT1H",
            "phenomenonTime": "2024-01-01T10:00:00Z/2024-01-01T13:00:00Z",
            "$count": "true",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@iot.count"] == 3
    first, second, empty = body["value"]
    assert first == {
        "phenomenonTime": "2024-01-01T10:00:00Z/2024-01-01T11:00:00Z",
        "count": 2,
        "min": [20.5, 58, None],
        "max": [21.0, 60, None],
        "avg": [20.75, 59, None],
        "sum": [41.5, 118, None],
    }
    assert (second["count"], second["min"], second["sum"]) == (
        1,
        [19.0, 61, None],
        [19.0, 61, None],
    )
    assert empty["count"] == 0
    assert empty["avg"] == [None, None, None]
    filtered = hub.get(
        f"{V}/MultiDatastreams({multi})/Observations/$aggregate",
        params={
            "interval": "PT3H",
            "phenomenonTime": "2024-01-01T10:00:00Z/2024-01-01T13:00:00Z",
            "$filter": "phenomenonTime ge 2024-01-01T10:15:00Z",
            "$select": "max",
        },
    )
    assert filtered.json()["value"] == [
        {"phenomenonTime": "2024-01-01T10:00:00Z/2024-01-01T13:00:00Z", "max": [21.0, 61, None]}
    ]


def test_unknown_multi_datastream_is_404(hub):
    query = {"interval": "PT1H", "phenomenonTime": "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"}
    response = hub.get(f"{V}/MultiDatastreams(99)/Observations/$aggregate", params=query)
    assert response.status_code == 404
    expected = "no MultiDatastream with @iot.id 99 at MultiDatastreams(99)"
    assert response.json()["message"] == expected
