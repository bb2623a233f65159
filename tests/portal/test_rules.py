"""The portal's small rules: when a value is stale, the map view in a URL, layer badges,
chart ranges and the bucket ladder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from starlette.datastructures import QueryParams

from cityhub.errors import BadRequest
from cityhub.freshness import freshness, stale_after
from cityhub.portal.mapview import MapView, badges, centre_of
from cityhub.portal.series import _grid, parse_span

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_declared_interval_wins_and_half_of_it_again_is_the_grace():
    declared = {"expectedInterval": "PT10M"}
    first = NOW - timedelta(days=1)
    assert not freshness(declared, first, NOW - timedelta(minutes=15), 99, NOW).stale
    late = freshness(declared, first, NOW - timedelta(minutes=16), 99, NOW)
    assert late.stale
    assert late.declared
    assert late.interval == timedelta(minutes=10)


def test_without_a_declaration_the_mean_spacing_so_far_is_expected():
    # 145 readings over a day: every 10 minutes.
    found = freshness(
        {}, NOW - timedelta(days=1, minutes=30), NOW - timedelta(minutes=30), 145, NOW
    )
    assert found.interval == timedelta(minutes=10)
    assert not found.declared
    assert found.stale


@pytest.mark.parametrize(
    ("properties", "count"),
    [({}, 1), ({}, 0), ({"expectedInterval": "bald"}, 1), ({"expectedInterval": "PT0S"}, 1)],
)
def test_nothing_to_go_by_is_never_stale(properties, count):
    long_ago = NOW - timedelta(days=400)
    assert not freshness(properties, long_ago, long_ago, count, NOW).stale


@pytest.mark.parametrize(
    ("query", "zoom", "centre", "layers", "feature"),
    [
        ("", None, None, None, None),
        ("map=15/51.17/7.08", 15, (51.17, 7.08), None, None),
        ("layers=", None, None, [], None),
        ("layers=a,b&layers=c", None, None, ["a", "b", "c"], None),
        ("feature=sensors/7", None, None, None, "sensors/7"),
    ],
)
def test_the_map_view_is_read_from_the_address(query, zoom, centre, layers, feature):
    view = MapView.parse(QueryParams(query))
    assert (view.zoom, view.centre, view.layers, view.feature) == (zoom, centre, layers, feature)


@pytest.mark.parametrize(
    "query",
    [
        "map=15/51",
        "map=0/51/7",
        "map=15/91/7",
        "map=15/51/7/1",
        "map=a/b/c",
        "feature=x",
        "feature=/1",
    ],
)
def test_a_bad_map_view_is_a_bad_request(query):
    with pytest.raises(BadRequest):
        MapView.parse(QueryParams(query))


def test_layer_badges_differ_by_letters_not_only_by_colour():
    assert badges(["Toiletten", "Taxi", "Tankstellen", "Sensoren", "!"]) == [
        "T",
        "TA",
        "T3",
        "S",
        "?",
    ]


def test_the_centre_of_a_geometry_is_its_bounding_box_middle():
    assert centre_of({"type": "Point", "coordinates": [7.0, 51.0]}) == (51.0, 7.0)
    square = {"type": "Polygon", "coordinates": [[[7, 51], [8, 51], [8, 52], [7, 52], [7, 51]]]}
    assert centre_of(square) == (51.5, 7.5)
    assert centre_of(None) is None


def test_named_ranges_end_at_the_latest_value_and_custom_ones_are_local_days():
    latest = NOW - timedelta(days=3)
    week = parse_span(QueryParams("range=week"), latest, NOW, BERLIN)
    assert week.end - week.start == timedelta(days=7)
    assert latest < week.end <= latest + timedelta(seconds=1)
    custom = parse_span(
        QueryParams("range=custom&from=2026-03-29&to=2026-03-29"), None, NOW, BERLIN
    )
    assert custom.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert custom.end - custom.start == timedelta(hours=23)  # the day the clocks go forward


@pytest.mark.parametrize(
    ("days", "interval"),
    [
        (1, "PT5M"),
        (5, "PT15M"),
        (7, "PT1H"),
        (30, "PT3H"),
        (100, "PT6H"),
        (366, "P1D"),
        (3000, "P1W"),
    ],
)
def test_the_shortest_bucket_with_at_most_500_buckets_is_chosen(days, interval):
    span = parse_span(QueryParams("range=day"), None, NOW, BERLIN)
    span = type(span)("custom", NOW - timedelta(days=days), NOW)
    assert _grid(span, BERLIN)[0] == interval


def test_several_values_turn_stale_when_the_first_of_them_is_late():
    thermometer = (NOW - timedelta(minutes=2), timedelta(minutes=5))
    rain_gauge = (NOW - timedelta(minutes=40), timedelta(hours=1))
    unknown = (NOW - timedelta(days=3), None)
    assert stale_after([thermometer, rain_gauge]) == timedelta(minutes=45, seconds=30)
    assert stale_after([rain_gauge]) == timedelta(minutes=90)
    assert stale_after([unknown]) is None
    # A value with nothing to go by still counts as the oldest the tile shows.
    assert stale_after([thermometer, unknown]) == timedelta(days=3, minutes=5, seconds=30)


def test_a_unit_is_shown_by_its_symbol_and_an_annotation_by_its_name():
    from cityhub.sensorthings.serialize import display_unit

    assert display_unit({"name": "degree Celsius", "symbol": "°C"}) == "°C"
    assert display_unit({"name": "Stellplätze", "symbol": "{spaces}"}) == "Stellplätze"
    assert display_unit({"symbol": "{spaces}"}) == "spaces"
    assert display_unit({"name": "count"}) == "count"
    assert display_unit(None) == ""


@pytest.mark.parametrize("declared", ["P999999999D", "P700000000D", "P5000W"])
def test_an_absurdly_long_declared_interval_is_no_guide(declared):
    found = freshness({"expectedInterval": declared}, NOW - timedelta(days=2), NOW, 3, NOW)
    assert found.interval == timedelta(days=1)
    assert not found.declared


def test_the_stale_span_of_values_near_the_end_of_time_does_not_overflow():
    last = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    assert stale_after([(last, timedelta(days=10))]) == timedelta(days=15)
