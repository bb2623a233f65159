"""Conformance class request-data (OGC 18-088 clause 9.3.3.5.2): the $filter functions.

Every function is tried with a matching and a non-matching case, on both backends, on
properties, literals, JSON members and paths through relations, on either side, nested, in
$orderby and in the $filter of an $expand.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .helpers import OBSERVATION, V, create_thing, created_id, datastream_body, observation

AROUND_RATHAUS = "geography'POLYGON((6 50, 8 50, 8 52, 6 52, 6 50))'"
FAR_AWAY = "geometry'POLYGON((100 10, 101 10, 101 11, 100 11, 100 10))'"


@dataclass
class Data:
    things: dict[str, int]
    datastreams: dict[str, int]
    locations: dict[str, int]
    o: list[int]  # o[1] … o[5]; o[0] is unused


def location(name: str, geometry: dict) -> dict:
    return {
        "name": name,
        "description": f"location {name}",
        "encodingType": "application/geo+json",
        "location": geometry,
    }


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def seed(hub) -> Data:
    alpha = create_thing(
        hub,
        "alpha",
        properties={
            "level": 2,
            "built": "2020-05-17T23:30:00-02:00",
            "opened": "2020-05-18",
            "code": "AB-12",
        },
        location=location("Rathaus", point(7, 51)),
        datastreams=[
            datastream_body(
                "temp",
                [
                    observation(
                        2.5,
                        "2024-03-15T10:20:30.250Z",
                        resultTime="2024-03-15T10:20:30.250Z",
                        parameters={"when": "2024-03-15T12:00:00+01:00", "factor": 1.5},
                    ),
                    observation(-2.5, "2023-12-31T23:00:00Z/2024-01-01T01:00:00Z"),
                    observation(
                        3.49,
                        "2024-07-01T00:00:00Z",
                        parameters={
                            "when": "soon",
                            "span": "2024-07-01T00:00:00Z/2024-07-02T00:00:00+01:00",
                        },
                    ),
                ],
            )
        ],
    )
    beta = create_thing(
        hub,
        "Beta",
        properties={"level": "5"},
        location=location("Hafen", point(10, 53)),
        datastreams=[
            datastream_body(
                "hum",
                [
                    observation("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"),
                    observation("hello world", "2025-01-01T00:00:00Z"),
                ],
                observation_type=OBSERVATION,
            )
        ],
    )
    field = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    gamma = create_thing(hub, "gamma", location=location("Feld", field), datastreams=[])
    path = {"type": "LineString", "coordinates": [[0, 0], [3, 4]]}
    way = created_id(hub.post(f"{V}/Locations", location("Weg", path)))
    (temp,) = alpha.datastreams
    (hum,) = beta.datastreams
    return Data(
        things={"alpha": alpha.thing, "Beta": beta.thing, "gamma": gamma.thing},
        datastreams={"temp": temp, "hum": hum},
        locations={
            "Rathaus": alpha.location,
            "Hafen": beta.location,
            "Feld": gamma.location,
            "Weg": way,
        },
        o=[0, *alpha.observations[temp], *beta.observations[hum]],
    )


@pytest.fixture
def data(hub) -> Data:
    return seed(hub)


def get(hub, path: str, **params: str) -> dict:
    response = hub.get(f"{V}/{path}", params={f"${k}": v for k, v in params.items()})
    assert response.status_code == 200, response.text
    return response.json()


def names(hub, path: str, **params: str) -> list[str]:
    return [item["name"] for item in get(hub, path, **params)["value"]]


def observations(hub, data: Data, **params: str) -> list[int]:
    """Numbers (1 … 5) of the Observations found, in the order answered."""
    found = [item["@iot.id"] for item in get(hub, "Observations", **params)["value"]]
    return [data.o.index(entity_id) for entity_id in found]


def error(hub, path: str, **params: str) -> str:
    response = hub.get(f"{V}/{path}", params={f"${k}": v for k, v in params.items()})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 400
    assert body["type"] == "error"
    return body["message"]


# --- strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("indexof(name, 'ta') eq 2", ["Beta"]),
        ("indexof(name, 'al') eq 0", ["alpha"]),
        ("indexof(name, 'AL') eq 0", []),
        ("indexof(name, 'zz') eq -1", ["alpha", "Beta", "gamma"]),
        ("indexof(name, 'a') ge 3", ["Beta"]),
        ("substring(name, 1) eq 'lpha'", ["alpha"]),
        ("substring(name, 1) eq 'alpha'", []),
        ("substring(name, 1, 2) eq 'et'", ["Beta"]),
        ("substring(name, 0, 1) eq 'g'", ["gamma"]),
        ("substring(name, 1, 2) eq 'eta'", []),
        ("substring(name, 10) eq ''", ["alpha", "Beta", "gamma"]),
        ("substring(name, 1, -1) eq ''", ["alpha", "Beta", "gamma"]),
        ("substring(name, -2, 2) eq 'al'", ["alpha"]),
        ("substring(name, length(name) sub 2) eq 'ta'", ["Beta"]),
        ("'pha' eq substring(name, 2)", ["alpha"]),
        ("substring(properties/code, 3) eq '12'", ["alpha"]),
        ("indexof(properties/code, '-') eq 2", ["alpha"]),
        ("indexof(properties/level, '5') eq 0", ["Beta"]),
        ("substring(concat(name, '!'), indexof(name, 'a')) eq 'a!'", ["Beta"]),
        ("indexof(Datastreams/name, 'mp') eq 2", ["alpha"]),
        ("substring(Locations/name, 0, 3) eq 'Haf'", ["Beta"]),
    ],
)
def test_string_functions(hub, data, expression, expected):
    assert names(hub, "Things", filter=expression) == expected


def test_length_through_relations(hub, data):
    assert observations(hub, data, filter="length(Datastream/Thing/name) gt 4") == [1, 2, 3]
    assert observations(hub, data, filter="length(Datastream/Thing/name) gt 5") == []


def test_string_functions_of_unit_of_measurement(hub, data):
    assert names(hub, "Datastreams", filter="length(unitOfMeasurement/symbol) eq 4") == [
        "temp",
        "hum",
    ]
    assert names(hub, "Datastreams", filter="indexof(unitOfMeasurement/name, 'Cel') eq 7") == [
        "temp",
        "hum",
    ]
    assert names(hub, "Datastreams", filter="toupper(unitOfMeasurement/symbol) eq 'degC'") == []


# --- dates and times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("year(phenomenonTime) eq 2024", [1, 3, 4]),
        ("year(phenomenonTime) eq 2023", [2]),  # an interval: its start
        ("month(phenomenonTime) eq 3", [1]),
        ("month(phenomenonTime) eq 4", []),
        ("day(phenomenonTime) eq 29", [4]),
        ("day(phenomenonTime) eq 30", []),
        ("hour(resultTime) eq 10", [1]),
        ("hour(resultTime) eq 11", []),
        ("minute(resultTime) eq 20", [1]),
        ("minute(phenomenonTime) eq 21", []),
        ("second(resultTime) eq 30", [1]),
        ("second(phenomenonTime) eq 31", []),
        ("fractionalseconds(resultTime) eq 0.25", [1]),
        ("fractionalseconds(phenomenonTime) gt 0.3", []),
        ("fractionalseconds(phenomenonTime) eq 0", [2, 3, 4, 5]),
        ("date(phenomenonTime) eq 2024-02-29", [4]),
        ("date(phenomenonTime) eq 2024-02-28", []),
        ("date(phenomenonTime) gt 2024-06-30", [3, 5]),
        ("2024-01-01 gt date(phenomenonTime)", [2]),
        ("time(phenomenonTime) eq 12:00:00", [4]),
        ("time(phenomenonTime) eq 12:00", [4]),
        ("time(phenomenonTime) eq 10:20:30.25", [1]),
        ("time(phenomenonTime) eq 13:00:00", []),
        ("time(phenomenonTime) lt 01:00", [3, 5]),
        ("totaloffsetminutes(phenomenonTime) eq 0", [1, 2, 3, 4, 5]),
        ("totaloffsetminutes(resultTime) eq 0", [1]),
        ("totaloffsetminutes(phenomenonTime) ne 0", []),
        ("phenomenonTime lt now()", [1, 2, 3, 4, 5]),
        ("phenomenonTime gt now()", []),
        ("phenomenonTime gt mindatetime() and phenomenonTime lt maxdatetime()", [1, 2, 3, 4, 5]),
        ("phenomenonTime lt mindatetime() or phenomenonTime gt maxdatetime()", []),
        ("year(maxdatetime()) eq 9999 and year(mindatetime()) eq 1", [1, 2, 3, 4, 5]),
        ("year(resultTime) eq year(phenomenonTime)", [1]),
        ("month(resultTime) eq month(phenomenonTime) add 1", []),
        ("hour(2024-05-01T23:30:00-02:00) eq 1", [1, 2, 3, 4, 5]),
        ("day(2024-05-01T23:30:00-02:00) eq 1", []),
        ("year(2023-06-01T00:00:00Z/2024-06-01T00:00:00Z) eq 2023", [1, 2, 3, 4, 5]),
        ("year(2024-05-01) eq 2024 and month(2024-05-01) eq 5", [1, 2, 3, 4, 5]),
        ("hour(12:30:00) eq 12 and minute(12:30:00) eq 30", [1, 2, 3, 4, 5]),
        (
            "date(2024-05-01T01:00:00Z) eq 2024-05-01 and time(2024-05-01T01:00:00Z) eq 01:00",
            [
                1,
                2,
                3,
                4,
                5,
            ],
        ),
        ("date(2024-05-01T01:00:00%2B02:00) eq 2024-04-30", [1, 2, 3, 4, 5]),
        ("year(Datastream/phenomenonTime) eq 2023", [1, 2, 3]),
        ("resultTime eq 2024-03-15T11:20:30.25%2B01:00", [1]),
        ("resultTime eq 2024-03-15T11:20:30.25Z", []),
    ],
)
def test_date_and_time_functions(hub, data, expression, expected):
    assert observations(hub, data, filter=expression.replace("%2B", "+")) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("hour(parameters/when) eq 11", [1]),  # 12:00+01:00 is 11:00 UTC
        ("hour(parameters/when) eq 12", []),
        ("date(parameters/when) eq 2024-03-15", [1]),
        ("parameters/when gt 2024-03-15T10:30:00Z", [1]),
        ("parameters/when lt 2024-03-15T10:30:00Z", []),
        ("parameters/when eq 2024-03-15T13:00:00%2B02:00", [1]),
        ("2024-03-15T10:00:00Z/2024-03-15T10:59:00Z lt parameters/when", [1]),
        ("parameters/when lt 2024-03-15T10:00:00Z/2024-03-15T12:00:00Z", []),
        ("result eq 2024-02-29T12:00:00Z", [4]),
        ("result gt 2024-02-29T12:00:00Z", []),
        ("year(result) eq 2024", [4]),
        ("parameters/span gt 2024-06-30T23:59:59Z", [3]),
        ("parameters/span lt 2024-07-01T23:00:01Z", [3]),
        ("parameters/span lt 2024-07-01T22:59:59Z", []),  # it ends at 23:00 UTC
        ("parameters/span eq 2024-07-01T00:00:00Z/2024-07-01T23:00:00Z", [3]),
        ("day(parameters/span) eq 1", [3]),
    ],
)
def test_times_in_json_members_and_results(hub, data, expression, expected):
    assert observations(hub, data, filter=expression.replace("%2B", "+")) == expected


def test_time_functions_on_things_properties(hub, data):
    # 2020-05-17T23:30:00-02:00 is 2020-05-18T01:30:00Z.
    assert names(hub, "Things", filter="day(properties/built) eq 18") == ["alpha"]
    assert names(hub, "Things", filter="day(properties/built) eq 17") == []
    assert names(hub, "Things", filter="year(properties/code) eq 2020") == []


# --- math -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("round(result) eq 3", [1, 3]),  # 2.5 away from zero, 3.49 down
        ("round(result) eq 2", []),
        ("round(result) eq -3", [2]),
        ("floor(result) eq 2", [1]),
        ("floor(result) eq -3", [2]),
        ("floor(result) eq -2", []),
        ("ceiling(result) eq 3", [1]),
        ("ceiling(result) eq -2", [2]),
        ("ceiling(result) eq 4", [3]),
        ("ceiling(result) eq 5", []),
        ("round(result mul 2) eq 5", [1]),
        ("round(result mul 2) eq 6", []),
        ("5 eq round(2 mul result)", [1]),
        ("round(parameters/factor) eq 2", [1]),
        ("floor(parameters/factor) eq 2", []),
        ("round(-0.5) eq -1 and round(0.5) eq 1 and round(1.5) eq 2", [1, 2, 3, 4, 5]),
    ],
)
def test_math_functions(hub, data, expression, expected):
    assert observations(hub, data, filter=expression) == expected


# --- geospatial -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("geo.distance(location, geography'POINT(7 52)') lt 1.5", ["Rathaus"]),
        ("geo.distance(location, geography'POINT(7 51)') eq 0", ["Rathaus"]),
        ("geo.distance(geography'POINT(7 48)', location) eq 3", ["Rathaus"]),
        ("geo.distance(location, geography'POINT(50 50)') lt 1", []),
        ("geo.length(location) eq 5", ["Weg"]),
        ("geo.length(location) gt 5", []),
        (f"geo.intersects(location, {AROUND_RATHAUS})", ["Rathaus"]),
        (f"geo.intersects(location, {FAR_AWAY})", []),
        (f"st_within(location, {AROUND_RATHAUS})", ["Rathaus"]),
        (f"st_within(location, {FAR_AWAY})", []),
        (f"st_within(location, {AROUND_RATHAUS}) eq false", ["Hafen", "Feld", "Weg"]),
        ("st_within(geography'POINT(1 1)', location)", ["Feld"]),
        ("st_contains(location, geography'POINT(1 1)')", ["Feld"]),
        ("st_contains(location, geography'POINT(3 3)')", []),
        ("st_equals(location, geography'POINT(10 53)')", ["Hafen"]),
        ("st_equals(location, geography'POINT(10 54)')", []),
        ("st_disjoint(location, geography'POINT(1 1)')", ["Rathaus", "Hafen", "Weg"]),
        ("st_touches(location, geography'POINT(0 0)')", ["Feld", "Weg"]),
        ("st_touches(location, geography'POINT(1 1)')", []),
        ("st_overlaps(location, geography'POLYGON((1 1, 3 1, 3 3, 1 3, 1 1))')", ["Feld"]),
        ("st_overlaps(location, geography'POLYGON((5 5, 6 5, 6 6, 5 5))')", []),
        ("st_crosses(location, geography'LINESTRING(0 3, 3 0)')", ["Feld", "Weg"]),
        ("st_crosses(location, geography'LINESTRING(5 5, 6 6)')", []),
        ("st_intersects(location, geography'POINT(1 1)')", ["Feld"]),
        ("st_intersects(location, geography'POINT(-1 -1)')", []),
        ("st_relate(location, geography'POINT(1 1)', 'T********')", ["Feld"]),
        ("st_relate(location, geography'POINT(1 1)', 'FF*FF****')", ["Rathaus", "Hafen", "Weg"]),
        (
            "not st_intersects(location, geometry'SRID=4326;POINT(1 1)')",
            ["Rathaus", "Hafen", "Weg"],
        ),
    ],
)
def test_geospatial_functions(hub, data, expression, expected):
    assert names(hub, "Locations", filter=expression) == expected


def test_geospatial_functions_through_relations(hub, data):
    things = names(hub, "Things", filter=f"st_within(Locations/location, {AROUND_RATHAUS})")
    assert things == ["alpha"]
    assert names(hub, "Things", filter=f"st_within(Locations/location, {FAR_AWAY})") == []
    point_of_beta = "geography'POINT(10 53)'"
    filter_ = f"st_equals(FeatureOfInterest/feature, {point_of_beta})"
    assert observations(hub, data, filter=filter_) == [4, 5]
    assert observations(hub, data, filter=f"st_equals({point_of_beta}, FeatureOfInterest/feature)")
    filter_ = f"st_within(Thing/Locations/location, {AROUND_RATHAUS})"
    assert names(hub, "Datastreams", filter=filter_) == ["temp"]
    assert names(hub, "Datastreams", filter=f"st_intersects(observedArea, {AROUND_RATHAUS})") == [
        "temp"
    ]
    assert names(hub, "Datastreams", filter=f"st_intersects(observedArea, {FAR_AWAY})") == []


def test_geometries_of_properties_on_both_sides(hub, data):
    filter_ = "st_equals(Locations/location, Datastreams/observedArea)"
    assert names(hub, "Things", filter=filter_) == ["alpha", "Beta"]
    filter_ = "geo.distance(feature, Observations/Datastream/Thing/Locations/location) eq 0"
    assert len(names(hub, "FeaturesOfInterest", filter=filter_)) == 2
    filter_ = "st_disjoint(Locations/location, Datastreams/observedArea)"
    assert names(hub, "Things", filter=filter_) == []


# --- null ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # A function of a missing or differently typed value is null: it equals null only.
        ("round(parameters/factor) eq null", [2, 3, 4, 5]),
        ("round(parameters/factor) ne null", [1]),
        ("hour(resultTime) eq null", [2, 3, 4, 5]),
        ("year(parameters/when) eq null", [2, 3, 4, 5]),  # "soon" is no time
        ("year(parameters/when) ne 2024", []),
        ("length(result) eq null", [1, 2, 3]),
        ("floor(result) ne null", [1, 2, 3]),
        ("not (round(result) eq 3)", [2]),
    ],
)
def test_functions_of_null_values(hub, data, expression, expected):
    assert observations(hub, data, filter=expression) == expected


def test_dates_compare_with_json_strings(hub, data):
    # 2020-05-17T23:30:00-02:00 is 2020-05-18 in UTC.
    assert names(hub, "Things", filter="date(properties/built) eq properties/opened") == ["alpha"]
    assert names(hub, "Things", filter="date(properties/built) lt properties/opened") == []
    assert names(hub, "Things", filter="properties/opened lt 2020-06-01") == ["alpha"]
    assert names(hub, "Things", filter="properties/opened gt 2020-06-01") == []
    message = error(hub, "Things", filter="date(properties/built) eq '2020-05-18'")
    assert "expected a date value for 'eq' at position 23, got a string value" in message


# --- $orderby and $expand -------------------------------------------------------------------


def test_orderby_functions(hub, data):
    assert names(hub, "Things", orderby="length(name) desc,name") == ["alpha", "gamma", "Beta"]
    assert names(hub, "Things", orderby="indexof(name, 'a')") == ["alpha", "gamma", "Beta"]
    distance = "geo.distance(location, geography'POINT(7 51)')"
    assert names(hub, "Locations", orderby=distance) == ["Rathaus", "Hafen", "Weg", "Feld"]
    assert names(hub, "Locations", orderby=f"{distance} desc") == [
        "Feld",
        "Weg",
        "Hafen",
        "Rathaus",
    ]
    assert observations(hub, data, orderby="round(result) desc,id") == [1, 3, 2, 4, 5]
    assert observations(hub, data, orderby="year(phenomenonTime),month(phenomenonTime) desc") == [
        2,
        3,
        1,
        4,
        5,
    ]


def test_orderby_functions_put_nulls_first_ascending_and_last_descending(hub, data):
    assert observations(hub, data, orderby="hour(resultTime)") == [2, 3, 4, 5, 1]
    assert observations(hub, data, orderby="hour(resultTime) desc") == [1, 5, 4, 3, 2]


def test_orderby_functions_through_relations(hub, data):
    order = "length(Datastream/Thing/name) desc,result"
    assert observations(hub, data, orderby=order)[:3] == [2, 1, 3]
    order = "geo.distance(FeatureOfInterest/feature, geography'POINT(10 53)') desc,id"
    assert observations(hub, data, orderby=order) == [1, 2, 3, 4, 5]
    order = "geo.distance(FeatureOfInterest/feature, geography'POINT(10 53)'),id"
    assert observations(hub, data, orderby=order) == [4, 5, 1, 2, 3]
    order = "geo.distance(Thing/Locations/location, geography'POINT(10 53)')"
    assert "to-many relation Locations" in error(hub, "Datastreams", orderby=order)


def test_functions_in_expand(hub, data):
    inner = "Observations($filter=round(result) eq 3;$orderby=result desc;$select=id)"
    body = get(hub, f"Datastreams({data.datastreams['temp']})", expand=inner)
    assert [item["@iot.id"] for item in body["Observations"]] == [data.o[3], data.o[1]]
    inner = f"Locations($filter=st_within(location, {AROUND_RATHAUS}))"
    things = get(hub, "Things", expand=inner, orderby="id")["value"]
    assert [len(thing["Locations"]) for thing in things] == [1, 0, 0]
    inner = "Datastreams($expand=Observations($filter=year(phenomenonTime) eq 2023))"
    alpha = get(hub, f"Things({data.things['alpha']})", expand=inner)
    assert [o["@iot.id"] for o in alpha["Datastreams"][0]["Observations"]] == [data.o[2]]


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_set", "expression", "says"),
    [
        ("Things", "year(name) eq 2024", "for year() at position 0"),
        ("Things", "name eq 'a' and month(description) eq 1", "for month() at position 16"),
        ("Things", "round('x') eq 1", "expected a number value for round()"),
        ("Things", "floor(name) eq 1", "expected a number value for floor()"),
        ("Locations", "st_within(name, 1)", "expected a geometry value for st_within()"),
        ("Locations", "st_within(location, 1)", "got a number value"),
        ("Locations", "geo.distance(location, 'POINT(1 1)') lt 1", "expected a geometry value"),
        ("Locations", "geo.length(name) gt 1", "expected a geometry value for geo.length()"),
        ("Locations", "st_relate(location, location, 'XX')", "DE-9IM pattern"),
        ("Locations", "st_relate(location, location, name)", "DE-9IM pattern"),
        ("Things", "substring(name, 1.5) eq 'a'", "expected an integer for substring()"),
        ("Things", "substring(name, 'a') eq 'a'", "expected an integer for substring()"),
        ("Things", "substring(name, description) eq 'a'", "expected a number value"),
        ("Things", "indexof(name, 1) eq 0", "expected a string value for indexof()"),
        ("Observations", "date(phenomenonTime) eq 2024-01-01T00:00:00Z", "date"),
        ("Observations", "phenomenonTime eq 2024-01-01", "cannot compare a time with a date"),
        ("Observations", "time(phenomenonTime) eq 2024-01-01", "time of day"),
        ("Observations", "hour(2024-01-01) eq 1", "expected a time or time of day value"),
        ("Observations", "year(12:00:00) eq 1", "expected a time or date value"),
        ("Observations", "totaloffsetminutes(result mul 2) eq 0", "expected a time value"),
        ("Observations", "phenomenonTime eq duration'P1D'", "duration"),
        ("Observations", "now() eq 1", "cannot compare a time with a number"),
    ],
)
def test_type_mismatches_are_400(hub, entity_set, expression, says):
    assert says in error(hub, entity_set, filter=expression)


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("year(phenomenonTime eq 1", 24),
        ("round(result, 2) eq 1", 0),
        ("now(1) lt phenomenonTime", 0),
        ("geo.distance(location) lt 1", 0),
        ("st_within(location, geography'POINT(1)')", 20),
        ("st_within(location, geography'POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))')", 20),
        ("st_within(location, geography'POINT EMPTY')", 20),
        ("time(phenomenonTime) eq 25:00", 24),
        ("unknown(name) eq 1", 0),
        ("sqrt(result) eq 1", 0),
    ],
)
def test_malformed_function_calls_are_400_with_the_position(hub, expression, position):
    message = error(hub, "Observations", filter=expression)
    assert f"at position {position}" in message


def test_constant_orderby_keeps_the_id_order(hub, data):
    for constant in ("null", "now()", "12:00", "2024-01-01", "'x'"):
        assert names(hub, "Things", orderby=constant) == ["alpha", "Beta", "gamma"]


def test_json_members_are_no_geometries_nor_times_of_day(hub, data):
    message = error(hub, "Locations", filter="st_within(location/type, location)")
    assert "expected a geometry value for st_within() at position 0" in message
    message = error(hub, "Things", filter="time(properties/built) eq properties/code")
    assert "expected a time of day value for 'eq' at position 23" in message


def test_bad_orderby_expressions_are_400(hub):
    assert "geometries have no order" in error(hub, "Locations", orderby="location")
    message = error(hub, "Locations", orderby="geo.distance(location, 5)")
    assert "for geo.distance() at position 0" in message
    assert "at position 4" in error(hub, "Things", orderby="year(name")


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-31T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:60Z",
        "2024-01-01T00:00:00+16:00",
        "2024-01-01T00:00:00.1234567Z",
        "2024-01-01T00:00:00",
        "2024-01-01",
        "2024-01-01T00:00:00Z/",
        "2024-01-01T00:00:00Z/later",
    ],
)
def test_json_strings_that_are_no_times_match_nothing(hub, text):
    create_thing(hub, "odd", properties={"t": text}, datastreams=[])
    assert names(hub, "Things", filter="properties/t gt 2000-01-01T00:00:00Z") == []
    assert names(hub, "Things", filter="properties/t lt 2100-01-01T00:00:00Z") == []
    assert names(hub, "Things", filter="year(properties/t) eq null") == ["odd"]


def test_json_strings_at_the_edges_of_the_time_line_are_times(hub):
    create_thing(hub, "leap", properties={"t": "2024-02-29T23:59:59.999999-15:59"}, datastreams=[])
    create_thing(hub, "first", properties={"t": "0001-01-01T00:00Z"}, datastreams=[])
    assert names(hub, "Things", filter="date(properties/t) eq 2024-03-01") == ["leap"]
    assert names(hub, "Things", filter="year(properties/t) eq 1") == ["first"]
    assert names(hub, "Things", filter="properties/t lt 0001-01-01T00:00:01Z") == ["first"]


@pytest.mark.parametrize(
    "expression",
    ["round(result mul 1e308 mul 10) eq 1", "result mul 1e308 mul 1e308 gt 0"],
)
def test_arithmetic_beyond_the_range_of_numbers_is_no_server_error(hub, data, expression):
    """PostgreSQL refuses to compute an overflow (a 400 naming it); SQLite computes infinity
    and compares with it. Neither is a 500."""
    response = hub.get(f"{V}/Observations", params={"$filter": expression})
    if hub.store.backend == "postgresql":
        assert response.status_code == 400, response.text
        assert "out of range" in response.json()["message"]
    else:
        assert response.status_code == 200, response.text
        assert isinstance(response.json()["value"], list)
