"""Conformance class request-data (OGC 18-088 clause 9.3): system query options."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import HubClient

from .helpers import (
    OBSERVATION,
    V,
    create_thing,
    datastream_body,
    ids,
    location_body,
    observation,
)


@dataclass
class Data:
    alpha: int
    beta: int
    gamma: int
    temp: int  # Datastream of alpha: o1 (1), o2 (5, no resultTime), o3 (10)
    hum: int  # Datastream of beta: o4 ('high'), o5 ('low', an interval), o6 ('5', a string)
    o: list[int]  # o[1] … o[6]; o[0] is unused


def seed(hub) -> Data:
    alpha = create_thing(
        hub,
        "alpha",
        properties={"level": 2},
        datastreams=[
            datastream_body(
                "temp",
                [
                    observation(1, "2024-01-01T00:00:00Z", resultTime="2024-01-01T00:00:00Z"),
                    observation(5, "2024-01-01T01:00:00Z"),
                    observation(
                        10,
                        "2024-01-01T02:00:00Z",
                        resultTime="2024-01-01T02:00:00Z",
                        parameters={"level": 3},
                    ),
                ],
            )
        ],
    )
    beta = create_thing(
        hub,
        "Beta",
        properties={"level": "5"},
        location=location_body("Hafen", (7.64, 51.95)),
        datastreams=[
            datastream_body(
                "hum",
                [
                    observation("high", "2024-01-02T00:00:00Z"),
                    observation(
                        "low",
                        "2024-01-03T00:00:00Z/2024-01-03T06:00:00Z",
                        parameters={"level": "5"},
                    ),
                    observation("5", "2024-01-04T00:00:00Z"),
                ],
                observation_type=OBSERVATION,
            )
        ],
    )
    gamma = create_thing(hub, "gamma ", properties={"level": 1}, datastreams=[])
    (temp,) = alpha.datastreams
    (hum,) = beta.datastreams
    o = [0, *alpha.observations[temp], *beta.observations[hum]]
    assert len(o) == 7
    return Data(alpha.thing, beta.thing, gamma.thing, temp, hum, o)


@pytest.fixture
def data(hub) -> Data:
    return seed(hub)


def get(hub, path: str, **params: str):
    """GET with query options (``top="2"`` becomes ``$top=2``), asserting 200."""
    response = hub.get(f"{V}/{path}", params={f"${k}": v for k, v in params.items()})
    assert response.status_code == 200, response.text
    return response.json()


def found(hub, path: str, **params: str) -> list[int]:
    return [item["@iot.id"] for item in get(hub, path, **params)["value"]]


def error(hub, path: str, status: int, **params: str) -> str:
    response = hub.get(f"{V}/{path}", params={f"${k}": v for k, v in params.items()})
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == status
    assert body["type"] == "error"
    return body["message"]


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


# --- $top, $skip, paging --------------------------------------------------------------------


def test_top(hub, data):
    body = get(hub, "Observations", top="2")
    assert [item["@iot.id"] for item in body["value"]] == data.o[1:3]
    assert query_of(body["@iot.nextLink"])["$top"] == ["2"]
    assert query_of(body["@iot.nextLink"])["$skip"] == ["2"]


def test_top_zero_gives_no_entities(hub, data):
    body = get(hub, "Observations", top="0", count="true")
    assert body["value"] == []
    assert body["@iot.count"] == 6
    assert "@iot.nextLink" not in body  # a page of none would lead to itself forever


def test_skip(hub, data):
    assert found(hub, "Observations", skip="4") == data.o[5:7]
    assert found(hub, "Observations", skip="10") == []


def test_skip_applies_before_top(hub, data):
    assert found(hub, "Observations", top="2", skip="1") == data.o[2:4]


def test_next_links_walk_every_page_and_the_last_has_none(hub, data):
    body = get(hub, "Observations", top="4", filter="result ne null")
    seen = [item["@iot.id"] for item in body["value"]]
    link = body["@iot.nextLink"]
    assert link.startswith("http://testserver/v1.1/Observations?")
    assert query_of(link)["$filter"] == ["result ne null"]
    response = hub.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    last = response.json()
    seen += [item["@iot.id"] for item in last["value"]]
    assert "@iot.nextLink" not in last
    assert seen == data.o[1:]


def test_next_link_replaces_paging_options_of_any_case(hub, data):
    response = hub.get(f"{V}/Observations", params={"$TOP": "2", "$Skip": "1", "$select": "id"})
    link = response.json()["@iot.nextLink"]
    assert {k: v for k, v in query_of(link).items() if k.lower() in ("$top", "$skip")} == {
        "$top": ["2"],
        "$skip": ["3"],
    }
    rest = hub.get(link.removeprefix("http://testserver"))
    assert rest.status_code == 200, rest.text
    assert [o["@iot.id"] for o in rest.json()["value"]] == data.o[4:6]


def test_exact_last_page_has_no_next_link(hub, data):
    body = get(hub, "Observations", top="6")
    assert len(body["value"]) == 6
    assert "@iot.nextLink" not in body
    assert "@iot.nextLink" not in get(hub, "Observations")


@pytest.fixture
def small_hub(backend_settings) -> Iterator[HubClient]:
    """A hub whose pages hold at most 3 entities, 2 by default."""
    client = HubClient(backend_settings.model_copy(update={"default_top": 2, "max_top": 3}))
    yield client
    client.close()


def test_top_above_the_maximum_is_capped_with_a_next_link(small_hub):
    data = seed(small_hub)
    body = get(small_hub, "Observations", top="5")
    assert [item["@iot.id"] for item in body["value"]] == data.o[1:4]
    query = query_of(body["@iot.nextLink"])
    assert query["$top"] == ["3"]
    assert query["$skip"] == ["3"]
    rest = small_hub.get(body["@iot.nextLink"].removeprefix("http://testserver")).json()
    assert [item["@iot.id"] for item in rest["value"]] == data.o[4:7]
    assert "@iot.nextLink" not in rest


def test_default_page_size(small_hub):
    data = seed(small_hub)
    body = get(small_hub, "Observations")
    assert [item["@iot.id"] for item in body["value"]] == data.o[1:3]
    assert "@iot.nextLink" in body


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", ""])
@pytest.mark.parametrize("name", ["top", "skip"])
def test_bad_top_and_skip_are_400(hub, name, value):
    message = error(hub, "Things", 400, **{name: value})
    assert f"${name}" in message


def test_default_order_is_by_id_even_after_updates(hub, data):
    # An update moves a row to the end of PostgreSQL's heap; the order must not change.
    response = hub.patch(f"{V}/Observations({data.o[1]})", {"result": 2})
    assert response.status_code == 200, response.text
    assert found(hub, "Observations") == data.o[1:]
    assert found(hub, "Things") == [data.alpha, data.beta, data.gamma]
    assert found(hub, "Observations", top="3", skip="1") == data.o[2:5]


# --- $count -----------------------------------------------------------------------------------


def test_count_ignores_top_and_skip(hub, data):
    body = get(hub, "Observations", count="true", top="1", skip="1")
    assert body["@iot.count"] == 6
    assert len(body["value"]) == 1


def test_count_respects_filter_and_path(hub, data):
    assert get(hub, "Observations", count="true", filter="result gt 1")["@iot.count"] == 2
    assert get(hub, f"Datastreams({data.hum})/Observations", count="true")["@iot.count"] == 3


def test_count_false_and_absent_give_no_count(hub, data):
    assert "@iot.count" not in get(hub, "Things", count="false")
    assert "@iot.count" not in get(hub, "Things")


@pytest.mark.parametrize("value", ["yes", "1", "", "True "])
def test_invalid_count_is_400(hub, value):
    assert "$count" in error(hub, "Things", 400, count=value)


def test_count_inside_expand(hub, data):
    body = get(hub, "Things", expand="Datastreams/Observations($count=true;$top=1)")
    by_name = {thing["name"]: thing for thing in body["value"]}
    temp = by_name["alpha"]["Datastreams"][0]
    assert temp["Observations@iot.count"] == 3
    assert len(temp["Observations"]) == 1
    things = get(hub, "Things", expand="Datastreams($count=true)")["value"]
    assert [t["Datastreams@iot.count"] for t in things] == [1, 1, 0]
    assert "Datastreams@iot.count" not in get(hub, "Things", expand="Datastreams")["value"][0]


def test_count_inside_expand_respects_filter(hub, data):
    body = get(
        hub, f"Datastreams({data.temp})", expand="Observations($filter=result ge 5;$count=true)"
    )
    assert body["Observations@iot.count"] == 2
    assert [o["@iot.id"] for o in body["Observations"]] == data.o[2:4]


# --- $orderby ---------------------------------------------------------------------------------


def test_orderby_ascending_and_descending(hub, data):
    path = f"Datastreams({data.temp})/Observations"
    assert found(hub, path, orderby="result") == [data.o[1], data.o[2], data.o[3]]
    assert found(hub, path, orderby="result desc") == [data.o[3], data.o[2], data.o[1]]
    assert found(hub, path, orderby="result asc") == [data.o[1], data.o[2], data.o[3]]
    assert found(hub, path, orderby="phenomenonTime desc") == [data.o[3], data.o[2], data.o[1]]


def test_orderby_puts_nulls_first_ascending_and_last_descending(hub, data):
    path = f"Datastreams({data.temp})/Observations"
    assert found(hub, path, orderby="resultTime") == [data.o[2], data.o[1], data.o[3]]
    assert found(hub, path, orderby="resultTime desc") == [data.o[3], data.o[1], data.o[2]]


def test_orderby_json_member_puts_nulls_first(hub, data):
    path = f"Datastreams({data.temp})/Observations"
    ascending = found(hub, path, orderby="parameters/level")
    assert ascending[-1] == data.o[3]
    descending = found(hub, path, orderby="parameters/level desc")
    assert descending[0] == data.o[3]


def test_orderby_several_keys_and_through_a_relation(hub, data):
    order = found(hub, "Observations", orderby="Datastream/name desc,phenomenonTime desc")
    assert order == [data.o[3], data.o[2], data.o[1], data.o[6], data.o[5], data.o[4]]
    order = found(hub, "Observations", orderby="Datastream/name, phenomenonTime desc")
    assert order == [data.o[6], data.o[5], data.o[4], data.o[3], data.o[2], data.o[1]]


def test_orderby_through_two_relations(hub, data):
    order = found(hub, "Observations", orderby="Datastream/Thing/id desc")
    # Beta's Observations first; ties by id, descending with the last key.
    assert order == [data.o[6], data.o[5], data.o[4], data.o[3], data.o[2], data.o[1]]


def test_orderby_a_function(hub, data):
    # lengths: "Beta" 4, "alpha" 5, "gamma " 6
    assert found(hub, "Things", orderby="length(name)") == [data.beta, data.alpha, data.gamma]
    assert found(hub, "Things", orderby="length(name) desc") == [data.gamma, data.alpha, data.beta]


def test_orderby_with_top_and_skip(hub, data):
    path = f"Datastreams({data.temp})/Observations"
    assert found(hub, path, orderby="result desc", top="1", skip="1") == [data.o[2]]


@pytest.mark.parametrize(
    ("entity_set", "orderby", "relation"),
    [
        ("Things", "Datastreams/name", "Datastreams"),
        ("Things", "Datastreams/Observations/result desc", "Datastreams"),
        ("Observations", "Datastream/Thing/Locations/name", "Locations"),
        ("Things", "length(Locations/name)", "Locations"),
    ],
)
def test_orderby_through_a_to_many_relation_is_400(hub, entity_set, orderby, relation):
    # One Thing has many Datastreams: no value of theirs orders the Thing.
    assert f"to-many relation {relation}" in error(hub, entity_set, 400, orderby=orderby)


def test_orderby_unknown_property_is_400(hub):
    assert "colour" in error(hub, "Things", 400, orderby="colour")


# --- $select ----------------------------------------------------------------------------------


def test_select_properties(hub, data):
    value = get(hub, "Things", select="name,properties")["value"]
    assert value[0] == {"name": "alpha", "properties": {"level": 2}}
    assert [set(item) for item in value] == [{"name", "properties"}] * 3


def test_select_id(hub, data):
    value = get(hub, "Things", select="id,name", top="1")["value"]
    assert value == [{"@iot.id": data.alpha, "name": "alpha"}]


def test_select_navigation_property(hub, data):
    value = get(hub, f"Things({data.alpha})", select="Datastreams,name")
    assert value == {
        "name": "alpha",
        "Datastreams@iot.navigationLink": f"http://testserver/v1.1/Things({data.alpha})/Datastreams",
    }


def test_select_the_control_information(hub, data):
    value = get(hub, "Things", select="@iot.id,@iot.selfLink", top="1")["value"]
    assert value == [
        {"@iot.id": data.alpha, "@iot.selfLink": f"http://testserver/v1.1/Things({data.alpha})"}
    ]


def test_select_and_expand_of_the_same_relation_give_link_and_content(hub, data):
    body = get(
        hub, f"Things({data.alpha})", select="Datastreams", expand="Datastreams($select=name)"
    )
    assert body == {
        "Datastreams@iot.navigationLink": f"http://testserver/v1.1/Things({data.alpha})/Datastreams",
        "Datastreams": [{"name": "temp"}],
    }


def test_select_on_a_single_entity(hub, data):
    body = get(hub, f"Observations({data.o[3]})", select="result,phenomenonTime")
    assert body == {"result": 10, "phenomenonTime": "2024-01-01T02:00:00Z"}


def test_select_unknown_property_is_400(hub, data):
    assert "colour" in error(hub, "Things", 400, select="name,colour")


# --- $expand ----------------------------------------------------------------------------------


def test_expand_nested(hub, data):
    body = get(hub, f"Things({data.alpha})", expand="Datastreams/Observations")
    (datastream,) = body["Datastreams"]
    assert datastream["name"] == "temp"
    assert [o["@iot.id"] for o in datastream["Observations"]] == data.o[1:4]
    assert datastream["Observations"][0]["result"] == 1
    # The navigation links stay next to the expanded entities.
    assert "Datastreams@iot.navigationLink" in body


def test_expand_on_a_collection_keeps_each_parent_its_own(hub, data):
    value = get(hub, "Things", expand="Datastreams")["value"]
    assert [[d["name"] for d in thing["Datastreams"]] for thing in value] == [["temp"], ["hum"], []]


def test_expand_many_to_many_on_a_collection_keeps_each_parent_its_own(hub, data):
    value = get(hub, "Things", expand="Locations($select=name;$count=true)")["value"]
    assert [[loc["name"] for loc in thing["Locations"]] for thing in value] == [
        ["Rathaus"],
        ["Hafen"],
        ["Rathaus"],
    ]
    assert [thing["Locations@iot.count"] for thing in value] == [1, 1, 1]
    locations = get(hub, "Locations", expand="Things($select=name)", orderby="id")["value"]
    assert [[t["name"] for t in loc["Things"]] for loc in locations] == [
        ["alpha"],
        ["Beta"],
        ["gamma "],
    ]


def test_expand_to_one(hub, data):
    body = get(hub, f"Datastreams({data.hum})", expand="Thing,Sensor,ObservedProperty")
    assert body["Thing"]["@iot.id"] == data.beta
    assert body["Sensor"]["name"] == "sensor of hum"
    assert body["ObservedProperty"]["name"] == "property of hum"
    value = get(hub, "Observations", expand="Datastream/Thing", select="result")["value"]
    assert [o["Datastream"]["Thing"]["name"] for o in value] == ["alpha"] * 3 + ["Beta"] * 3


def test_expand_with_inner_options(hub, data):
    body = get(
        hub,
        "Things",
        filter=f"id eq {data.alpha}",
        expand="Datastreams($select=name;$expand=Observations($filter=result gt 1;"
        "$orderby=result desc;$top=1;$select=result))",
    )
    (thing,) = body["value"]
    (datastream,) = thing["Datastreams"]
    assert datastream["name"] == "temp"
    assert datastream["Observations"] == [{"result": 10}]
    assert set(datastream) - {"Observations@iot.nextLink"} == {"name", "Observations"}


def test_expand_with_inner_skip(hub, data):
    body = get(hub, f"Datastreams({data.temp})", expand="Observations($skip=1;$top=1)")
    assert [o["@iot.id"] for o in body["Observations"]] == [data.o[2]]


def test_expand_inner_filter_on_to_one(hub, data):
    value = get(hub, "Datastreams", expand="Thing($filter=name eq 'alpha')")["value"]
    by_name = {d["name"]: d for d in value}
    assert by_name["temp"]["Thing"]["name"] == "alpha"
    assert by_name["hum"]["Thing"] is None


def test_expand_latest_observation_of_every_datastream(hub, data):
    value = get(hub, "Datastreams", expand="Observations($top=1;$orderby=phenomenonTime desc)")[
        "value"
    ]
    latest = {d["name"]: [o["@iot.id"] for o in d["Observations"]] for d in value}
    assert latest == {"temp": [data.o[3]], "hum": [data.o[6]]}


def test_expand_next_link(hub, data):
    body = get(hub, f"Datastreams({data.temp})", expand="Observations($top=2)")
    assert [o["@iot.id"] for o in body["Observations"]] == data.o[1:3]
    link = body["Observations@iot.nextLink"]
    rest = hub.get(link.removeprefix("http://testserver")).json()
    assert [o["@iot.id"] for o in rest["value"]] == [data.o[3]]
    full = get(hub, f"Datastreams({data.temp})", expand="Observations($top=3)")
    assert "Observations@iot.nextLink" not in full


def test_expand_next_link_carries_the_inner_options(hub, data):
    inner = (
        "$filter=result gt 1;$orderby=result desc;$select=result;$top=1;"
        "$expand=FeatureOfInterest($select=name)"
    )
    body = get(hub, f"Datastreams({data.temp})", expand=f"Observations({inner})")
    assert [o["result"] for o in body["Observations"]] == [10]
    assert set(body["Observations"][0]) == {"result", "FeatureOfInterest"}
    link = body["Observations@iot.nextLink"]
    assert " " not in link
    assert link.startswith(f"http://testserver/v1.1/Datastreams({data.temp})/Observations?")
    assert query_of(link) == {
        "$filter": ["result gt 1"],
        "$orderby": ["result desc"],
        "$select": ["result"],
        "$expand": ["FeatureOfInterest($select=name)"],
        "$top": ["1"],
        "$skip": ["1"],
    }
    rest = hub.get(link.removeprefix("http://testserver")).json()
    assert [o["result"] for o in rest["value"]] == [5]
    assert set(rest["value"][0]["FeatureOfInterest"]) == {"name"}
    assert "@iot.nextLink" not in rest


def test_nested_expand_next_links_carry_count_and_their_own_options(hub, data):
    body = get(hub, "Things", expand="Datastreams/Observations($count=true;$top=2;$skip=0)")
    by_name = {thing["name"]: thing for thing in body["value"]}
    (temp,) = by_name["alpha"]["Datastreams"]
    link = temp["Observations@iot.nextLink"]
    assert query_of(link) == {"$count": ["true"], "$top": ["2"], "$skip": ["2"]}
    rest = hub.get(link.removeprefix("http://testserver")).json()
    assert rest["@iot.count"] == 3
    assert [o["@iot.id"] for o in rest["value"]] == [data.o[3]]


def test_merged_expands_keep_every_part_in_the_next_link(hub, data):
    expand = "Observations($top=1;$select=result),Observations/FeatureOfInterest($select=name)"
    body = get(hub, f"Datastreams({data.temp})", expand=expand)
    link = body["Observations@iot.nextLink"]
    assert query_of(link)["$expand"] == ["FeatureOfInterest($select=name)"]
    rest = hub.get(link.removeprefix("http://testserver")).json()
    (first,) = rest["value"]
    assert (first["result"], set(first["FeatureOfInterest"])) == (5, {"name"})


def test_expand_with_top_zero_has_no_next_link(hub, data):
    body = get(hub, f"Datastreams({data.temp})", expand="Observations($top=0;$count=true)")
    assert body["Observations"] == []
    assert body["Observations@iot.count"] == 3
    assert "Observations@iot.nextLink" not in body


def test_expand_the_same_relation_twice_merges(hub, data):
    body = get(hub, f"Things({data.alpha})", expand="Datastreams,Datastreams/Sensor")
    (datastream,) = body["Datastreams"]
    assert datastream["Sensor"]["name"] == "sensor of temp"


def test_expand_all_is_not_implemented(hub, data):
    # OData's "*" is not part of SensorThings 1.1: a valid request this server does not serve.
    assert "$expand=*" in error(hub, "Things", 501, expand="*")


def test_expand_unknown_relation_is_400(hub, data):
    assert "Cars" in error(hub, "Things", 400, expand="Cars")


# --- $filter: operators -----------------------------------------------------------------------


def obs(data: Data, *numbers: int) -> list[int]:
    return [data.o[n] for n in numbers]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("result eq 5", [2]),
        ("result ne 5", [1, 3]),
        ("result gt 5", [3]),
        ("result ge 5", [2, 3]),
        ("result lt 5", [1]),
        ("result le 5", [1, 2]),
        ("result ge 5 and result lt 10", [2]),
        ("result eq 1 or result eq 10", [1, 3]),
        ("not (result gt 1)", [1]),
        ("not result eq 1", [2, 3]),
        ("result add 1 eq 6", [2]),
        ("result sub 1 eq 0", [1]),
        ("result mul 2 eq 20", [3]),
        ("result div 2 eq 2.5", [2]),
        ("result mod 3 eq 1", [1, 3]),
        ("result mod 4 eq 2", [3]),
        ("(result add 0.5) mod 2 eq 1.5", [1, 2]),
        ("result div 0 eq 1", []),
        ("result mod 0 eq 1", []),
        ("-result lt -5", [3]),
        # mul binds tighter than add: result + 10 = 15
        ("result add 5 mul 2 eq 15", [2]),
        ("(result add 5) mul 2 eq 30", [3]),
        # and binds tighter than or
        ("result eq 1 or result eq 5 and resultTime ne null", [1]),
        ("(result eq 1 or result eq 5) and resultTime eq null", [2]),
        ("result eq 10 or result eq 5 and result eq 1", [3]),
        ("((result gt 1))", [2, 3]),
        ("5 lt result", [3]),
        ("10 eq result", [3]),
    ],
)
def test_filter_operators(hub, data, expression, expected):
    path = f"Datastreams({data.temp})/Observations"
    assert found(hub, path, filter=expression) == obs(data, *expected)


def test_filter_on_ids(hub, data):
    assert found(hub, "Things", filter=f"id eq {data.beta}") == [data.beta]
    assert found(hub, "Things", filter=f"@iot.id ne {data.beta}") == [data.alpha, data.gamma]


# --- $filter: results and typed JSON values ---------------------------------------------------


def test_filter_numeric_result_ignores_strings(hub, data):
    # o6 has the string "5": it is not a number.
    assert found(hub, "Observations", filter="result gt 1") == obs(data, 2, 3)
    assert found(hub, "Observations", filter="result eq 5") == obs(data, 2)


def test_filter_string_result(hub, data):
    assert found(hub, "Observations", filter="result eq 'high'") == obs(data, 4)
    assert found(hub, "Observations", filter="result eq '5'") == obs(data, 6)
    assert found(hub, "Observations", filter="startswith(result, 'l')") == obs(data, 5)


def test_filter_properties_compare_as_typed_values(hub, data):
    assert found(hub, "Things", filter="properties/level gt 1") == [data.alpha]
    assert found(hub, "Things", filter="properties/level ge 1") == [data.alpha, data.gamma]
    assert found(hub, "Things", filter="properties/level eq 5") == []
    assert found(hub, "Things", filter="properties/level eq '5'") == [data.beta]
    assert found(hub, "Things", filter="properties/missing eq 1") == []


def test_filter_parameters(hub, data):
    assert found(hub, "Observations", filter="parameters/level gt 1") == obs(data, 3)
    assert found(hub, "Observations", filter="parameters/level eq '5'") == obs(data, 5)


def test_filter_null(hub, data):
    assert found(hub, "Observations", filter="resultTime ne null") == obs(data, 1, 3)
    assert found(hub, "Observations", filter="resultTime eq null") == obs(data, 2, 4, 5, 6)
    assert found(hub, "Things", filter="properties eq null") == []
    assert found(hub, "Observations", filter="parameters eq null") == obs(data, 1, 2, 4, 6)
    assert found(hub, "Observations", filter="null eq parameters/level") == obs(data, 1, 2, 4, 6)


def test_filter_null_and_boolean_results(hub):
    results = [True, "", False, "x", 3, [1]]
    times = [f"2024-01-01T0{i}:00:00Z" for i in range(len(results))]
    body = datastream_body(
        "mixed",
        [observation(r, t) for r, t in zip(results, times, strict=True)],
        observation_type=OBSERVATION,
    )
    seeded = create_thing(hub, "mixed", datastreams=[body])
    o = seeded.observations[seeded.datastreams[0]]
    # Strings, booleans and arrays are no null results, though they are no numbers.
    assert found(hub, "Observations", filter="result eq null") == []
    assert found(hub, "Observations", filter="result ne null") == o
    assert found(hub, "Observations", filter="result eq ''") == [o[1]]
    assert found(hub, "Observations", filter="result eq true") == [o[0]]
    assert found(hub, "Observations", filter="result eq false") == [o[2]]
    assert found(hub, "Observations", filter="result") == [o[0]]
    assert found(hub, "Observations", filter="result ge 3") == [o[4]]


def test_filter_json_null_member(hub):
    a = create_thing(hub, "a", datastreams=[], properties={"level": None})
    b = create_thing(hub, "b", datastreams=[], properties={"level": 0})
    c = create_thing(hub, "c", datastreams=[], properties={})
    assert found(hub, "Things", filter="properties/level eq null") == [a.thing, c.thing]
    assert found(hub, "Things", filter="properties/level ne null") == [b.thing]


def test_filter_comparing_different_types_is_400(hub, data):
    assert "string" in error(hub, "Things", 400, filter="name eq 1")
    error(hub, "Things", 400, filter="id eq 'x'")
    error(hub, "Things", 400, filter="name eq true")


# --- $filter: paths through relations ---------------------------------------------------------


def test_filter_through_to_one_relations(hub, data):
    assert found(hub, "Observations", filter="Datastream/Thing/name eq 'alpha'") == obs(
        data, 1, 2, 3
    )
    assert found(hub, "Observations", filter="Datastream/name eq 'hum'") == obs(data, 4, 5, 6)
    assert found(hub, "Datastreams", filter="Thing/properties/level gt 1") == [data.temp]


def test_filter_through_to_many_relations_means_any(hub, data):
    assert found(hub, "Things", filter="Datastreams/name eq 'hum'") == [data.beta]
    assert found(hub, "Things", filter="Datastreams/Observations/result gt 5") == [data.alpha]
    assert found(hub, "Things", filter="Locations/name eq 'Hafen'") == [data.beta]
    assert found(hub, "Things", filter="not (Datastreams/name eq 'hum')") == [
        data.alpha,
        data.gamma,
    ]


def test_filter_by_related_id(hub, data):
    assert found(hub, "Observations", filter=f"Datastream/@iot.id eq {data.hum}") == obs(
        data, 4, 5, 6
    )
    assert found(hub, "Observations", filter=f"Datastream/id eq {data.temp}") == obs(data, 1, 2, 3)
    assert found(hub, "Datastreams", filter=f"Thing/@iot.id eq {data.beta}") == [data.hum]


def test_filter_mixing_relations_and_own_properties(hub, data):
    expression = "Datastream/Thing/name eq 'alpha' and result ge 5 or result eq 'low'"
    assert found(hub, "Observations", filter=expression) == obs(data, 2, 3, 5)


# --- $filter: time ------------------------------------------------------------------------------


def test_filter_time_with_z(hub, data):
    assert found(hub, "Observations", filter="phenomenonTime eq 2024-01-01T01:00:00Z") == obs(
        data, 2
    )
    assert found(hub, "Observations", filter="phenomenonTime lt 2024-01-01T01:30:00.000Z") == obs(
        data, 1, 2
    )
    assert found(hub, "Observations", filter="resultTime ge 2024-01-01T01:00:00Z") == obs(data, 3)


def test_filter_time_with_offset(hub, data):
    # 02:00+01:00 is 01:00Z; httpx encodes the '+' as %2B.
    expression = "phenomenonTime eq 2024-01-01T02:00:00+01:00"
    assert found(hub, "Observations", filter=expression) == obs(data, 2)
    expression = "phenomenonTime gt 2024-01-01T01:30:00-01:00"  # 02:30Z
    assert found(hub, "Observations", filter=expression) == obs(data, 4, 5, 6)


def test_filter_time_with_a_raw_plus_sign(hub, data):
    # Sent literally, '+' means a space in a query string; that is no valid time.
    response = hub.get(f"{V}/Observations?$filter=phenomenonTime eq 2024-01-01T02:00:00+01:00")
    assert response.status_code == 400


def test_filter_interval_phenomenon_time(hub, data):
    # o5 lasts from 2024-01-03T00:00Z to 06:00Z.
    after = "phenomenonTime gt 2024-01-03T03:00:00Z"
    assert found(hub, "Observations", filter=after) == obs(data, 6)
    before = "phenomenonTime lt 2024-01-03T03:00:00Z"
    assert found(hub, "Observations", filter=before) == obs(data, 1, 2, 3, 4)
    inside = "phenomenonTime ge 2024-01-02T12:00:00Z and phenomenonTime le 2024-01-03T06:00:00Z"
    assert found(hub, "Observations", filter=inside) == obs(data, 5)


def test_filter_datastream_phenomenon_time(hub, data):
    # temp's phenomenonTime is the interval 2024-01-01T00:00Z/02:00Z
    expression = "phenomenonTime lt 2024-01-01T12:00:00Z"
    assert found(hub, "Datastreams", filter=expression) == [data.temp]


def test_filter_time_against_a_number_is_400(hub, data):
    error(hub, "Observations", 400, filter="phenomenonTime gt 5")


# --- $filter: string functions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("substringof('et', name)", ["Beta"]),
        ("substringof('ET', name)", []),
        ("startswith(name, 'al')", ["alpha"]),
        ("startswith(name, 'b')", []),
        ("startswith(name, 'B')", ["Beta"]),
        ("endswith(name, 'ta')", ["Beta"]),
        ("endswith(name, 'TA')", []),
        ("endswith(name, 'a')", ["alpha", "Beta"]),
        ("tolower(name) eq 'beta'", ["Beta"]),
        ("toupper(name) eq 'ALPHA'", ["alpha"]),
        ("length(name) eq 6", ["gamma "]),
        ("length(name) lt 5", ["Beta"]),
        ("trim(name) eq 'gamma'", ["gamma "]),
        ("length(trim(name)) eq 5", ["alpha", "gamma "]),
        ("concat(name, '!') eq 'Beta!'", ["Beta"]),
        ("concat(concat(name, '-'), name) eq 'alpha-alpha'", ["alpha"]),
        ("name eq 'beta'", []),
        ("name eq 'Beta'", ["Beta"]),
        ("startswith(Datastreams/name, 'te')", ["alpha"]),
    ],
)
def test_filter_string_functions(hub, data, expression, expected):
    value = get(hub, "Things", filter=expression)["value"]
    assert [thing["name"] for thing in value] == expected


def test_filter_string_literal_with_a_quote(hub):
    create_thing(hub, "O'Brien", datastreams=[])
    assert [t["name"] for t in get(hub, "Things", filter="name eq 'O''Brien'")["value"]] == [
        "O'Brien"
    ]


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression", ["name eq", "name eq 'x' and", "(name eq 'x'", "name eq 'x", "name === 'x'"]
)
def test_malformed_filter_is_400_with_the_position(hub, expression):
    message = error(hub, "Things", 400, filter=expression)
    assert "position" in message


def test_filter_unknown_property_is_400_naming_it(hub):
    message = error(hub, "Things", 400, filter="colour eq 'red'")
    assert "colour" in message
    message = error(hub, "Observations", 400, filter="Datastream/colour eq 'red'")
    assert "colour" in message


def test_filter_that_is_no_condition_is_400(hub):
    error(hub, "Things", 400, filter="name")
    error(hub, "Things", 400, filter="Datastreams")


def test_unsupported_option_is_501(hub):
    message = error(hub, "Things", 501, search="alpha")
    assert "$search" in message
    error(hub, "Things", 501, expand="Datastreams($search=x)")


def test_result_format_data_array_is_501(hub):
    error(hub, "Observations", 501, resultFormat="dataArray")


def test_option_given_twice_is_400(hub):
    response = hub.get(f"{V}/Things?$top=1&$top=2")
    assert response.status_code == 400


def test_custom_options_are_ignored(hub, data):
    response = hub.get(f"{V}/Things", params={"top": "-1", "filter": "("})
    assert ids(response) == [data.alpha, data.beta, data.gamma]


@pytest.mark.parametrize(
    ("entity_set", "expression", "says"),
    [
        ("Things", "properties eq 'x'", "compare one of its members"),
        ("Datastreams", "unitOfMeasurement eq 1", "compare one of its members"),
        ("Things", "properties gt 1", "compare one of its members"),
        ("Locations", "location eq 1", "geospatial functions"),
        ("FeaturesOfInterest", "feature eq 'x'", "geospatial functions"),
        ("Things", "-name eq 1", "expected a number value for '-'"),
        ("Things", "name add 1 gt 2", "expected a number value for 'add'"),
        ("Things", "substringof(1, name)", "expected a string value"),
        ("Things", "tolower(1) eq 'a'", "expected a string value"),
    ],
)
def test_values_of_the_wrong_kind_are_400(hub, entity_set, expression, says):
    assert says in error(hub, entity_set, 400, filter=expression)


def test_null_compared_with_null_and_huge_integers_are_answered(hub):
    create_thing(hub, "Waage")
    everything = hub.get(f"{V}/Things", params={"$filter": "null eq null"}).json()["value"]
    assert len(everything) == 1
    nothing = hub.get(f"{V}/Things", params={"$filter": "null ne null"}).json()["value"]
    assert nothing == []
    huge = hub.get(f"{V}/Things", params={"$filter": "id eq 99999999999999999999"})
    assert huge.status_code == 200
    assert huge.json()["value"] == []


def test_skip_beyond_64_bits_is_400(hub):
    assert "too large" in error(hub, "Things", 400, skip="99999999999999999999")
