"""The latest values of many Datastreams, written as JSON by the database (``latest_page``).

The text the statement writes must be byte for byte what the general path (``reads`` and
``api.render``, serialised with orjson) writes for the same request: every result type
(integers, doubles that SQL would print otherwise, strings to escape, null, booleans, objects,
arrays), times with and without fractional seconds and offsets, intervals, missing values,
$select on both levels, $count, paging and the access rule.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import update

from cityhub.auth import ANONYMOUS
from cityhub.sensorthings import latest_page, reads
from cityhub.sensorthings.api import render
from cityhub.sensorthings.options import parse_query_options
from cityhub.sensorthings.reads import Paging
from cityhub.sensorthings.resource import parse_resource_path
from cityhub.store import schema
from cityhub.store.access import hidden_datasets

from .helpers import OBSERVATION, V, create_thing, datastream_body, observation
from .test_access import world  # noqa: F401  (a fixture)

LATEST = "Observations($top=1;$orderby=phenomenonTime desc{})"
URL = "http://testserver/v1.1"

RESULTS: list[Any] = [
    21,
    -7,
    2**53,
    2**53 + 1,  # beyond a double's integers: kept as a JSON document
    21.5,
    0.30000000000000004,  # SQL prints 0.3
    1e-7,
    1e16,
    123456789.123,
    -0.0,
    1.0,
    'a "quoted" back\\slash/é€😀\n\t\x01\u2028',
    "",
    True,
    False,
    {"level": 1.5, "flags": [True, None], "name": "x"},
    [1, "two", {"three": 3}],
    [],
]

TIMES = [
    ("2024-01-01T00:00:00Z", {}),
    ("2024-01-01T00:00:00.5Z", {"resultTime": "2024-01-01T00:00:00.123456Z"}),
    ("2024-01-01T02:00:00.100+02:00", {"resultTime": "2024-01-01T00:00:00.000001Z"}),
    (
        "2024-01-01T00:00:00Z/2024-01-01T00:59:59.990Z",
        {"validTime": "2024-01-01T00:00:00Z/2024-01-02T00:00:00.25Z"},
    ),
    ("2024-02-29T23:59:59.999999Z", {"resultQuality": [{"q": 1}], "parameters": {"p": "v"}}),
]


@pytest.fixture
def streams(hub) -> list[int]:
    """One Datastream per result and per time, one with no Observation, one with two."""
    bodies = [
        datastream_body(
            f"result {index}", [observation(result, "2024-01-01T00:00:00Z")], OBSERVATION
        )
        for index, result in enumerate(RESULTS)
    ]
    bodies += [
        datastream_body(f"time {index}", [observation(1.25, time, **extra)])
        for index, (time, extra) in enumerate(TIMES)
    ]
    bodies.append(datastream_body("empty", [], properties={"note": "no 'observations' yet"}))
    two = [observation(1, "2024-01-01T00:00:00Z"), observation(2, "2024-01-01T01:00:00Z")]
    bodies.append(datastream_body('two "values"', two, properties=None))
    bodies.append(datastream_body("null", [observation(0, "2024-01-01T00:00:00Z")], OBSERVATION))
    created = create_thing(hub, datastreams=bodies).datastreams

    def null_result(connection) -> None:
        # The API refuses a null result, but the store may hold one (RESULT_NULL).
        connection.execute(
            update(schema.observations)
            .where(schema.observations.c.datastream_id == created[-1])
            .values(result_type=schema.RESULT_NULL, result_number=None)
        )

    hub.store.write_blocking(null_result)
    return created


def _both(hub, query: str) -> tuple[bytes, bytes]:
    """The page's items as the database writes them, and as the general path writes them."""
    options = parse_query_options(list(_pairs(query)))
    store = hub.store
    backend = store.backend

    def read(connection) -> tuple[bytes, bytes]:
        paging = Paging(100, 1000, hidden_datasets(connection, ANONYMOUS.reader))
        target = reads.resolve(connection, parse_resource_path("Datastreams"), paging.hidden)
        answered = latest_page.read_page(
            reads.PageRequest(connection, backend, target, options, paging, URL)
        )
        assert answered is not None, "the request should take the latest-values path"
        _, fragment = answered
        page = reads.read_collection(connection, backend, target, options, paging)
        general = [render(target.entity, record, URL, options) for record in page.records]
        return orjson.dumps(fragment), orjson.dumps(general)

    return store.read_blocking(read)


def _pairs(query: str) -> list[tuple[str, str]]:
    return [tuple(part.split("=", 1)) for part in query.split("&")]  # type: ignore[misc]


QUERIES = [
    f"$expand={LATEST.format('')}",
    f"$expand={LATEST.format(';$count=true')}&$count=true",
    f"$select=id&$expand={LATEST.format(';$select=result,phenomenonTime')}",
    f"$select=name,@iot.selfLink,Observations,Thing&$expand={LATEST.format(';$select=id')}",
    f"$select=properties&$expand={LATEST.format(';$select=Datastream,validTime')}",
    f"$expand={LATEST.format(';$select=resultTime')}&$orderby=name desc&$top=7&$skip=3",
    f"$filter=startswith(name,'time')&$expand={LATEST.format(';$count=false')}",
    # A filter through a relation and an order by a derived time, paged in the middle.
    f"$filter=Thing/name ne 'nobody'&$orderby=phenomenonTime desc,id&$top=5&$skip=2"
    f"&$expand={LATEST.format('')}",
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_database_writes_what_the_general_path_writes(hub, streams, query):
    written, general = _both(hub, query)
    assert orjson.loads(written) == orjson.loads(general)  # the readable difference first
    assert written == general
    assert orjson.loads(written)  # the page is not empty


def test_every_result_and_time_goes_out_as_sent(hub, streams):
    items = orjson.loads(_both(hub, f"$top=100&$expand={LATEST.format('')}")[0])
    by_name = {item["name"]: item["Observations"] for item in items}
    for index, result in enumerate(RESULTS):
        (latest,) = by_name[f"result {index}"]
        assert latest["result"] == result
        assert type(latest["result"]) is type(result)
    times = [by_name[f"time {index}"][0] for index in range(len(TIMES))]
    assert [t["phenomenonTime"] for t in times] == [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00.5Z",
        "2024-01-01T00:00:00.1Z",
        "2024-01-01T00:00:00Z/2024-01-01T00:59:59.99Z",
        "2024-02-29T23:59:59.999999Z",
    ]
    assert times[1]["resultTime"] == "2024-01-01T00:00:00.123456Z"
    assert times[2]["resultTime"] == "2024-01-01T00:00:00.000001Z"
    assert times[3]["validTime"] == "2024-01-01T00:00:00Z/2024-01-02T00:00:00.25Z"
    assert times[4]["resultQuality"] == [{"q": 1}]
    assert by_name["empty"] == []
    assert by_name["null"][0]["result"] is None


def test_the_api_pages_through_the_latest_values(hub, streams):
    url = f"{V}/Datastreams?$top=10&$count=true&$expand={LATEST.format('')}"
    seen: list[dict] = []
    while url:
        response = hub.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["@iot.count"] == len(streams)
        seen += page["value"]
        url = page.get("@iot.nextLink", "").removeprefix("http://testserver")
    assert [item["@iot.id"] for item in seen] == streams
    two = next(item for item in seen if item["name"] == 'two "values"')
    assert two["Observations"][0]["result"] == 2
    link = two["Observations@iot.nextLink"]
    assert link.startswith(f"http://testserver{V}/Datastreams({two['@iot.id']})/Observations?")
    following = hub.get(link.removeprefix("http://testserver")).json()
    assert [o["result"] for o in following["value"]] == [1]
    assert "Observations@iot.nextLink" not in next(i for i in seen if i["name"] == "time 0")


def test_other_expands_take_the_general_path(hub, streams):
    target_options = [
        f"$expand={LATEST.format(';$skip=1')}",
        f"$expand={LATEST.format(';$expand=FeatureOfInterest')}",
        f"$expand=Thing,{LATEST.format('')}",
        "$expand=Observations($top=2;$orderby=phenomenonTime desc)",
    ]
    for query in target_options:
        options = parse_query_options(_pairs(query))
        target = reads.Target(latest_page.DATASTREAM, ())
        assert latest_page.latest_expand(target, options, Paging(100, 1000)) is None
        response = hub.get(f"{V}/Datastreams?{query}")
        assert response.status_code == 200, response.text


def test_a_bad_select_inside_is_a_400(hub, streams):
    response = hub.get(f"{V}/Datastreams?$expand={LATEST.format(';$select=nothing')}")
    assert response.status_code == 400
    assert "nothing" in response.json()["message"]


def test_hidden_datastreams_stay_hidden(hub, world):  # noqa: F811
    url = f"{V}/Datastreams?$expand={LATEST.format('')}"
    anonymous = hub.get(url).json()["value"]
    assert [d["@iot.id"] for d in anonymous] == world.open.datastreams
    as_reader = hub.get(url, headers=world.reader).json()["value"]
    assert {d["@iot.id"] for d in as_reader} == {*world.open.datastreams, *world.secret.datastreams}
    secret = {d["@iot.id"]: d for d in as_reader}[world.secret.datastreams[0]]
    assert secret["Observations"][0]["result"] == 640
