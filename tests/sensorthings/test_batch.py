"""Conformance class batch-request (OGC 18-088 clause 11), on SQLite and PostgreSQL.

Batches go through real HTTP, in the OData ``multipart/mixed`` format and the JSON format;
what a failed change set leaves behind is counted through the API.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.sensorthings.helpers import (
    V,
    all_ids,
    create_thing,
    created_id,
    datastream_body,
)

from cityhub.auth import create_token

BASE = "http://testserver/v1.1"


# --- building and reading multipart bodies -------------------------------------------------


def http_part(
    method: str, url: str, body: Any = None, content_id: str | None = None, nl: str = "\r\n"
) -> str:
    """One ``application/http`` MIME part holding a request."""
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id is not None:
        head.append(f"Content-ID: {content_id}")
    lines = [*head, "", f"{method} {url} HTTP/1.1"]
    if body is not None:
        lines += ["Content-Type: application/json", "", json.dumps(body)]
    else:
        lines += [""]
    return nl.join(lines)


def multipart(boundary: str, parts: list[str], nl: str = "\r\n") -> str:
    return "".join(f"--{boundary}{nl}{part}{nl}" for part in parts) + f"--{boundary}--{nl}"


def change_set(boundary: str, parts: list[str], nl: str = "\r\n") -> str:
    return f"Content-Type: multipart/mixed; boundary={boundary}{nl}{nl}" + multipart(
        boundary, parts, nl
    )


def post_batch(hub: Any, body: str, boundary: str = "batch_1", auth: bool = True) -> httpx.Response:
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    if auth:
        headers.update(hub.admin)
    return hub.request("POST", f"{V}/$batch", content=body.encode(), headers=headers)


@dataclass
class Answer:
    """One ``application/http`` part of a batch response."""

    content_id: str | None
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def read_multipart(content_type: str, body: bytes) -> list[Answer | list[Answer]]:
    """The answers of a multipart batch response; a change set's answers as a nested list."""
    boundary = re.search(r"boundary=\"?([^\";]+)", content_type)
    assert boundary is not None, content_type
    delimiter = b"--" + boundary[1].encode()
    assert body.rstrip().endswith(delimiter + b"--"), body
    chunks = body.split(b"\r\n" + delimiter)
    chunks[0] = chunks[0].removeprefix(delimiter)
    answers: list[Answer | list[Answer]] = []
    for chunk in chunks[:-1]:
        head, _, content = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        headers = _headers(head)
        if headers["content-type"].startswith("multipart/mixed"):
            nested = read_multipart(headers["content-type"], content)
            answers.append([a for a in nested if isinstance(a, Answer)])
            continue
        assert headers["content-type"] == "application/http"
        status_head, _, payload = content.partition(b"\r\n\r\n")
        status_line, _, rest = status_head.partition(b"\r\n")
        status = int(status_line.split()[1])
        answers.append(Answer(headers.get("content-id"), status, _headers(rest), payload))
    return answers


def _headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode().splitlines():
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers


def answers_of(response: httpx.Response) -> list[Answer | list[Answer]]:
    assert response.status_code == 200, response.text
    return read_multipart(response.headers["content-type"], response.content)


def thing_body(name: str) -> dict[str, Any]:
    return {"name": name, "description": f"thing {name}"}


def sensor_body(name: str = "DHT22") -> dict[str, Any]:
    return {
        "name": name,
        "description": "a sensor",
        "encodingType": "application/pdf",
        "metadata": "https://example.org/dht22.pdf",
    }


def property_body(name: str = "temperature") -> dict[str, Any]:
    return {"name": name, "definition": f"https://example.org/{name}", "description": name}


def count(hub: Any, entity_set: str) -> int:
    return len(all_ids(hub, f"{V}/{entity_set}"))


# --- multipart ------------------------------------------------------------------------------


def test_service_root_lists_the_batch_conformance_class(hub):
    conformance = hub.get(V).json()["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/batch-request" in conformance


def test_the_api_documentation_describes_batch_requests(sqlite_hub):
    paths = sqlite_hub.get("/api/openapi.json").json()["paths"]
    content = paths["/v1.1/$batch"]["post"]["requestBody"]["content"]
    assert set(content) == {"multipart/mixed", "application/json"}


def test_a_batch_of_reads_answers_each_in_order_without_a_token(hub):
    seeded = create_thing(hub, "Rathaus")
    body = multipart(
        "batch_reads",
        [
            http_part("GET", f"Things({seeded.thing})?$select=name"),
            http_part("GET", f"/v1.1/Datastreams({seeded.datastreams[0]})/Observations?$top=2"),
            http_part("GET", f"{BASE}/Things({seeded.thing})/name/$value"),
            http_part("GET", "Things(999)"),
            http_part("GET", "Things?$filter=name eq 'Rathaus'&$select=name"),
        ],
    )
    answers = answers_of(post_batch(hub, body, "batch_reads", auth=False))
    first, second, third, missing, filtered = answers
    assert isinstance(first, Answer)
    assert first.status == 200
    assert first.json() == {"name": "Rathaus"}
    assert isinstance(second, Answer)
    assert len(second.json()["value"]) == 2
    assert second.json()["@iot.nextLink"].startswith(
        f"{BASE}/Datastreams({seeded.datastreams[0]})/Observations?"
    )
    assert isinstance(third, Answer)
    assert (third.status, third.body, third.headers["content-type"]) == (
        200,
        b"Rathaus",
        "text/plain; charset=utf-8",
    )
    assert isinstance(missing, Answer)
    assert missing.status == 404
    assert missing.json()["type"] == "error"
    assert isinstance(filtered, Answer)  # spaces left unencoded in the URL are kept
    assert filtered.json() == {"value": [{"name": "Rathaus"}]}


def test_a_change_set_creates_a_thing_and_its_datastream_through_a_reference(hub):
    sensor_id = created_id(hub.post(f"{V}/Sensors", sensor_body()))
    property_id = created_id(hub.post(f"{V}/ObservedProperties", property_body()))
    datastream = datastream_body("temperature")
    datastream["Sensor"] = {"@iot.id": sensor_id}
    datastream["ObservedProperty"] = {"@iot.id": property_id}
    body = multipart(
        "batch_a",
        [
            change_set(
                "changeset_b",
                [
                    http_part("POST", "Things", thing_body("Rathaus"), content_id="1"),
                    http_part("POST", "$1/Datastreams", datastream, content_id="2"),
                ],
            )
        ],
    )
    (answers,) = answers_of(post_batch(hub, body, "batch_a"))
    assert isinstance(answers, list)
    thing, created = answers
    assert [thing.status, created.status] == [201, 201]
    assert [thing.content_id, created.content_id] == ["1", "2"]
    thing_id = thing.json()["@iot.id"]
    assert thing.headers["location"] == f"{BASE}/Things({thing_id})"
    datastream_id = created.json()["@iot.id"]
    assert created.headers["location"] == f"{BASE}/Datastreams({datastream_id})"
    linked = hub.get(f"{V}/Datastreams({datastream_id})/Thing").json()
    assert linked["@iot.id"] == thing_id


def test_a_failing_change_set_leaves_nothing_while_a_later_part_still_runs(hub):
    body = multipart(
        "batch_c",
        [
            change_set(
                "changeset_d",
                [
                    http_part("POST", "Things", thing_body("kept?"), content_id="1"),
                    http_part("POST", "Sensors", {"name": "no description"}, content_id="2"),
                ],
            ),
            http_part("POST", "Things", thing_body("independent"), content_id="3"),
        ],
    )
    failed, independent = answers_of(post_batch(hub, body, "batch_c"))
    assert isinstance(failed, Answer)  # one response for the whole failed change set
    assert failed.status == 400
    assert failed.content_id == "2"
    assert failed.json()["type"] == "error"
    assert "Sensor" in failed.json()["message"]
    assert isinstance(independent, Answer)
    assert independent.status == 201
    names = [t["name"] for t in hub.get(f"{V}/Things").json()["value"]]
    assert names == ["independent"]
    assert count(hub, "Sensors") == 0


def test_a_change_set_fails_as_a_whole_when_a_later_part_addresses_nothing(hub):
    body = multipart(
        "b",
        [
            change_set(
                "cs",
                [
                    http_part("POST", "Sensors", sensor_body(), content_id="s"),
                    http_part("PATCH", "Things(12345)", {"name": "x"}, content_id="t"),
                ],
            )
        ],
    )
    (failed,) = answers_of(post_batch(hub, body, "b"))
    assert isinstance(failed, Answer)
    assert (failed.status, failed.content_id) == (404, "t")
    assert count(hub, "Sensors") == 0


def test_a_reference_in_a_body_links_the_entity_created_earlier(hub):
    datastream = datastream_body("humidity")
    datastream["Thing"] = {"@iot.id": "$thing"}
    datastream["Sensor"] = {"@iot.id": "$sensor"}
    datastream["ObservedProperty"] = {"@iot.id": "$property"}
    observation = {"result": 41.5, "phenomenonTime": "2024-05-01T12:00:00Z"}
    observation["Datastream"] = {"@iot.id": "$ds"}
    location = {
        "name": "roof",
        "description": "the roof",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [7.08, 51.17]},
        "Things": [{"@iot.id": "$thing"}],
    }
    parts = [
        http_part("POST", "Things", thing_body("Station"), content_id="thing"),
        http_part("POST", "Locations", location, content_id="where"),
        http_part("POST", "Sensors", sensor_body(), content_id="sensor"),
        http_part("POST", "ObservedProperties", property_body(), content_id="property"),
        http_part("POST", "Datastreams", datastream, content_id="ds"),
        http_part("POST", "Observations", observation, content_id="obs"),
        http_part("GET", "$ds/Observations"),
    ]
    (answers,) = answers_of(
        post_batch(hub, multipart("outer", [change_set("inner", parts)]), "outer")
    )
    assert isinstance(answers, list)
    assert [a.status for a in answers] == [201, 201, 201, 201, 201, 201, 200]
    thing_id = answers[0].json()["@iot.id"]
    datastream_id = answers[4].json()["@iot.id"]
    assert hub.get(f"{V}/Datastreams({datastream_id})/Thing").json()["@iot.id"] == thing_id
    # The read in the change set sees the change set's own Observation.
    assert [o["result"] for o in answers[6].json()["value"]] == [41.5]
    observation_id = answers[5].json()["@iot.id"]
    feature = hub.get(f"{V}/Observations({observation_id})/FeatureOfInterest")
    assert feature.json()["feature"]["coordinates"] == [7.08, 51.17]


def test_updates_and_deletes_in_a_change_set_reference_earlier_parts(hub):
    seeded = create_thing(hub, "old")
    parts = [
        http_part("PATCH", f"Things({seeded.thing})", {"name": "new"}, content_id="1"),
        http_part("POST", "Sensors", sensor_body("temporary"), content_id="2"),
        http_part("DELETE", "$2"),
        http_part("PUT", "$1", thing_body("replaced")),
    ]
    (answers,) = answers_of(post_batch(hub, multipart("b", [change_set("c", parts)]), "b"))
    assert isinstance(answers, list)
    assert [a.status for a in answers] == [200, 201, 200, 200]
    assert answers[0].json()["name"] == "new"
    assert answers[3].json()["name"] == "replaced"
    assert hub.get(f"{V}/Things({seeded.thing})/name").json() == {"name": "replaced"}
    assert count(hub, "Sensors") == 1  # the Datastream's own; the new one is deleted again


def test_content_ids_are_echoed_for_parts_outside_a_change_set(hub):
    body = multipart(
        "b",
        [
            http_part("POST", "Things", thing_body("one"), content_id="first"),
            http_part("GET", "$first", content_id="second"),
            http_part("GET", "Things"),
        ],
    )
    first, second, third = answers_of(post_batch(hub, body, "b"))
    assert isinstance(first, Answer)
    assert isinstance(second, Answer)
    assert isinstance(third, Answer)
    assert (first.content_id, second.content_id, third.content_id) == ("first", "second", None)
    assert second.json()["name"] == "one"


def test_lf_line_endings_quoted_boundaries_and_absolute_urls_are_read(hub):
    nl = "\n"
    parts = [
        http_part("POST", f"{BASE}/Things", thing_body("lf"), content_id="1", nl=nl),
        http_part("POST", "/v1.1/Sensors", sensor_body(), nl=nl),
    ]
    body = "preamble to ignore\n" + multipart("b=1", [change_set("c", parts, nl)], nl)
    body = body.replace("boundary=c", 'boundary="c"')
    headers = {"Content-Type": 'multipart/mixed; boundary="b=1"', **hub.admin}
    response = hub.request("POST", f"{V}/$batch", content=body.encode(), headers=headers)
    (answers,) = answers_of(response)
    assert isinstance(answers, list)
    assert [a.status for a in answers] == [201, 201]
    assert count(hub, "Things") == 1


def test_parts_without_mime_headers_are_read_as_requests(hub):
    body = "--b\r\nPOST Things HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
    body += json.dumps(thing_body("bare")) + "\r\n--b\r\n\r\nGET Things HTTP/1.1\r\n--b--\r\n"
    created, listed = answers_of(post_batch(hub, body, "b"))
    assert isinstance(created, Answer)
    assert created.status == 201
    assert isinstance(listed, Answer)
    assert [t["name"] for t in listed.json()["value"]] == ["bare"]


def test_observations_in_a_batch_go_to_the_datastream_of_the_url(hub):
    seeded = create_thing(hub)
    datastream_id = seeded.datastreams[0]
    observations = [
        http_part("POST", f"Datastreams({datastream_id})/Observations", {"result": 1.5}),
        http_part(
            "POST", "Observations", {"result": 2.5, "Datastream": {"@iot.id": datastream_id}}
        ),
        http_part(
            "POST", "Observations", {"result": "text", "Datastream": {"@iot.id": datastream_id}}
        ),
    ]
    answers = answers_of(post_batch(hub, multipart("b", observations), "b"))
    statuses = [a.status for a in answers if isinstance(a, Answer)]
    assert statuses == [201, 201, 400]
    results = hub.get(
        f"{V}/Datastreams({datastream_id})/Observations?$filter=result gt 1 and result lt 3"
    )
    assert sorted(o["result"] for o in results.json()["value"]) == [1.5, 2.5]


def test_independent_writes_answer_in_order_and_a_later_read_sees_them(hub):
    parts = [
        http_part("POST", "Things", thing_body(f"t{i}") if i != 7 else {"name": "bad"}, str(i))
        for i in range(15)
    ]
    parts.append(http_part("GET", "Things?$count=true&$top=0", content_id="count"))
    answers = answers_of(post_batch(hub, multipart("b", parts), "b"))
    assert all(isinstance(a, Answer) for a in answers)
    flat = [a for a in answers if isinstance(a, Answer)]
    assert [a.content_id for a in flat] == [*map(str, range(15)), "count"]
    assert [a.status for a in flat[:15]] == [201] * 7 + [400] + [201] * 7
    assert [a.json()["name"] for a in flat[:15] if a.status == 201] == [
        f"t{i}" for i in range(15) if i != 7
    ]
    assert flat[15].json()["@iot.count"] == 14


def test_a_failing_change_set_among_concurrent_writes_leaves_only_theirs(hub):
    """The writer may commit the change set together with other requests' writes; when it
    fails there, it alone is rolled back (in its savepoint) and the others commit."""
    failing = multipart(
        "b",
        [
            change_set(
                "c",
                [
                    http_part("POST", "Sensors", sensor_body("rolled back"), content_id="1"),
                    http_part("POST", "Things", {"name": "no description"}, content_id="2"),
                ],
            )
        ],
    )
    independent = multipart(
        "b", [http_part("POST", "ObservedProperties", property_body(f"p{i}")) for i in range(20)]
    )
    headers = {"Content-Type": "multipart/mixed; boundary=b", **hub.admin}

    async def send_all() -> list[httpx.Response]:
        sends = [
            hub.client.post(f"{V}/$batch", content=body.encode(), headers=headers)
            for body in (independent, failing, independent, failing)
        ]
        return list(await asyncio.gather(*sends))

    responses = hub.portal.call(send_all)
    for response in responses[1::2]:
        (failed,) = answers_of(response)
        assert isinstance(failed, Answer)
        assert (failed.status, failed.content_id) == (400, "2")
    for response in responses[::2]:
        assert {a.status for a in answers_of(response) if isinstance(a, Answer)} == {201}
    assert count(hub, "Sensors") == 0
    assert count(hub, "Things") == 0
    assert count(hub, "ObservedProperties") == 40


# --- authorisation and limits ---------------------------------------------------------------


def test_writes_in_a_batch_need_a_token_while_its_reads_do_not(hub):
    body = multipart(
        "b",
        [
            http_part("GET", "Things"),
            http_part("POST", "Things", thing_body("anonymous")),
            change_set("c", [http_part("POST", "Sensors", sensor_body(), content_id="1")]),
        ],
    )
    read, write, group = answers_of(post_batch(hub, body, "b", auth=False))
    assert isinstance(read, Answer)
    assert read.status == 200
    assert isinstance(write, Answer)
    assert write.status == 401
    assert write.json()["type"] == "error"
    assert isinstance(group, Answer)
    assert group.status == 401
    assert count(hub, "Things") == 0
    assert count(hub, "Sensors") == 0


def test_a_batch_with_a_reader_token_may_read_but_not_write(hub):
    thing_id = created_id(hub.post(f"{V}/Things", thing_body("kept")))
    token = hub.store.write_blocking(lambda c: create_token(c, "reader", "dashboard"))
    headers = {"Content-Type": "multipart/mixed; boundary=b", "Authorization": f"Bearer {token}"}
    body = multipart("b", [http_part("GET", "Things"), http_part("DELETE", f"Things({thing_id})")])
    response = hub.request("POST", f"{V}/$batch", content=body.encode(), headers=headers)
    read, delete = answers_of(response)
    assert isinstance(read, Answer)
    assert read.status == 200
    assert isinstance(delete, Answer)
    assert delete.status == 403
    assert "reader" in delete.json()["message"]
    assert count(hub, "Things") == 1


def test_a_batch_larger_than_max_body_bytes_is_refused(hub):
    limit = hub.settings.max_body_bytes
    body = multipart("b", [http_part("POST", "Things", thing_body("x" * limit))])
    response = post_batch(hub, body, "b")
    assert response.status_code == 413
    assert response.json()["type"] == "error"


# --- malformed batches ----------------------------------------------------------------------


def _bad(hub: Any, body: str, boundary: str = "b", content_type: str | None = None) -> str:
    headers = {"Content-Type": content_type or f"multipart/mixed; boundary={boundary}"}
    response = hub.request(
        "POST", f"{V}/$batch", content=body.encode(), headers={**headers, **hub.admin}
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert (error["code"], error["type"]) == (400, "error")
    return error["message"]


@pytest.mark.parametrize(
    ("body", "boundary", "expected"),
    [
        (multipart("other", [http_part("GET", "Things")]), "b", "no delimiter line '--b'"),
        ("--b\r\nContent-Type: application/http\r\n\r\nGET Things HTTP/1.1\r\n", "b", "closing"),
        (
            multipart(
                "b", ["Content-Type: application/http\r\n\r\nContent-Type: application/json"]
            ),
            "b",
            "request line",
        ),
        (multipart("b", ["Content-Type: application/http\r\n\r\n"]), "b", "request line"),
        (multipart("b", [http_part("FETCH", "Things")]), "b", "unknown method 'FETCH'"),
        (
            multipart(
                "b", [http_part("POST", "Things").replace("HTTP/1.1\r\n", "HTTP/1.1\r\n\r\n{no")]
            ),
            "b",
            "not valid JSON",
        ),
        (
            multipart("b", [change_set("c", [change_set("d", [http_part("GET", "Things")])])]),
            "b",
            "cannot hold another change set",
        ),
        (multipart("b", ["Content-Type: text/plain\r\n\r\nhello"]), "b", "application/http"),
        (
            multipart("b", [change_set("c", [http_part("GET", "Things", content_id="1")] * 2)]),
            "b",
            "Content-ID 1 appears twice",
        ),
    ],
    ids=[
        "wrong-boundary",
        "no-closing-delimiter",
        "header-instead-of-request-line",
        "no-request-line",
        "unknown-method",
        "part-body-not-json",
        "nested-change-set",
        "not-application-http",
        "duplicate-content-id",
    ],
)
def test_a_malformed_multipart_batch_is_400(hub, body, boundary, expected):
    assert expected in _bad(hub, body, boundary)


def test_a_malformed_part_stops_the_whole_batch_before_anything_runs(hub):
    body = multipart(
        "b", [http_part("POST", "Things", thing_body("never")), http_part("FETCH", "Things")]
    )
    assert "part 2 of the batch: unknown method 'FETCH'" in _bad(hub, body)
    assert count(hub, "Things") == 0


def test_a_batch_without_boundary_or_of_another_media_type_is_refused(hub):
    assert "boundary" in _bad(hub, "", content_type="multipart/mixed")
    response = hub.request(
        "POST", f"{V}/$batch", content=b"x", headers={"Content-Type": "text/plain", **hub.admin}
    )
    assert response.status_code == 415
    assert response.json()["type"] == "error"


def test_a_url_of_another_server_is_answered_in_its_part(hub):
    body = multipart("b", [http_part("GET", "http://elsewhere.example/v1.1/Things")])
    (answer,) = answers_of(post_batch(hub, body, "b"))
    assert isinstance(answer, Answer)
    assert answer.status == 400
    assert "not an address of this service" in answer.json()["message"]


def test_an_unknown_reference_is_answered_in_its_part(hub):
    body = multipart("b", [http_part("POST", "$7/Datastreams", datastream_body("x"))])
    (answer,) = answers_of(post_batch(hub, body, "b"))
    assert isinstance(answer, Answer)
    assert answer.status == 400
    assert "'$7'" in answer.json()["message"]


# --- JSON -----------------------------------------------------------------------------------


def post_json(hub: Any, requests: list[dict[str, Any]], auth: bool = True) -> list[dict]:
    headers = hub.admin if auth else {}
    response = hub.request("POST", f"{V}/$batch", json={"requests": requests}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()["responses"]


def test_a_json_batch_runs_an_atomicity_group_and_a_dependent_read(hub):
    requests = [
        {
            "id": "1",
            "atomicityGroup": "g1",
            "method": "post",
            "url": "Things",
            "body": thing_body("json"),
        },
        {
            "id": "2",
            "atomicityGroup": "g1",
            "method": "post",
            "url": "Sensors",
            "body": sensor_body(),
        },
        {
            "id": "3",
            "atomicityGroup": "g1",
            "method": "post",
            "url": "ObservedProperties",
            "body": property_body(),
        },
        {
            "id": "4",
            "atomicityGroup": "g1",
            "method": "post",
            "url": "$1/Datastreams",
            "dependsOn": ["1"],
            "body": {
                **datastream_body("t"),
                "Sensor": {"@iot.id": "$2"},
                "ObservedProperty": {"@iot.id": "$3"},
            },
        },
        {"id": "5", "method": "get", "url": "$1/Datastreams?$select=name", "dependsOn": ["g1"]},
    ]
    responses = post_json(hub, requests)
    assert [(r["id"], r["status"]) for r in responses] == [
        ("1", 201),
        ("2", 201),
        ("3", 201),
        ("4", 201),
        ("5", 200),
    ]
    assert [r.get("atomicityGroup") for r in responses] == ["g1", "g1", "g1", "g1", None]
    thing_id = responses[0]["body"]["@iot.id"]
    assert responses[0]["headers"]["location"] == f"{BASE}/Things({thing_id})"
    assert responses[4]["body"] == {"value": [{"name": "t"}]}


def test_a_failing_atomicity_group_is_rolled_back_and_its_dependants_do_not_run(hub):
    requests = [
        {
            "id": "a",
            "atomicityGroup": "g",
            "method": "POST",
            "url": "Things",
            "body": thing_body("rolled back"),
        },
        {
            "id": "b",
            "atomicityGroup": "g",
            "method": "POST",
            "url": "Things",
            "body": {"name": "no description"},
        },
        {"id": "c", "method": "GET", "url": "Things", "dependsOn": ["g"]},
        {"id": "d", "method": "POST", "url": "Things", "body": thing_body("independent")},
    ]
    responses = post_json(hub, requests)
    assert [(r["id"], r["status"]) for r in responses] == [
        ("a", 424),
        ("b", 400),
        ("c", 424),
        ("d", 201),
    ]
    assert "Thing.description is required" in responses[1]["body"]["message"]
    assert [t["name"] for t in hub.get(f"{V}/Things").json()["value"]] == ["independent"]


def test_a_json_batch_of_reads_needs_no_token_and_a_write_does(hub):
    responses = post_json(
        hub,
        [
            {"id": "r", "method": "get", "url": "/v1.1/Things"},
            {"id": "w", "method": "post", "url": "Things", "body": thing_body("x")},
        ],
        auth=False,
    )
    assert [r["status"] for r in responses] == [200, 401]
    assert responses[0]["body"] == {"value": []}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ([], '{"requests"'),
        ({"requests": [{"id": "1", "method": "fetch", "url": "Things"}]}, "unknown method"),
        ({"requests": [{"id": "1", "method": "get"}]}, "'url'"),
        ({"requests": [{"method": "get", "url": "Things"}]}, "'id'"),
        (
            {"requests": [{"id": "1", "method": "get", "url": "Things", "dependsOn": ["2"]}]},
            "dependsOn names '2'",
        ),
        (
            {
                "requests": [
                    {"id": "1", "method": "get", "url": "x"},
                    {"id": "1", "method": "get", "url": "y"},
                ]
            },
            "used twice",
        ),
        (
            {
                "requests": [
                    {"id": "1", "atomicityGroup": "g", "method": "get", "url": "x"},
                    {"id": "2", "method": "get", "url": "y"},
                    {"id": "3", "atomicityGroup": "g", "method": "get", "url": "z"},
                ]
            },
            "adjacent",
        ),
    ],
    ids=[
        "not-an-object",
        "unknown-method",
        "no-url",
        "no-id",
        "unknown-dependency",
        "duplicate-id",
        "group-not-adjacent",
    ],
)
def test_a_malformed_json_batch_is_400(hub, document, expected):
    message = _bad(hub, json.dumps(document), content_type="application/json")
    assert expected in message


def test_a_json_batch_that_is_not_json_is_400(hub):
    assert "not valid JSON" in _bad(hub, "{requests", content_type="application/json")


def test_a_json_patch_document_in_a_batch_is_applied_as_json_patch(hub):
    thing = create_thing(hub).thing
    operations = [{"op": "replace", "path": "/name", "value": "Rathaus Ost"}]
    answers = post_json(
        hub,
        [
            {
                "id": "1",
                "method": "patch",
                "url": f"Things({thing})",
                "headers": {"Content-Type": "application/json-patch+json"},
                "body": operations,
            }
        ],
    )
    assert answers[0]["status"] == 200, answers
    assert hub.get(f"{V}/Things({thing})/name").json() == {"name": "Rathaus Ost"}


def test_create_observations_runs_inside_a_batch_and_its_change_set(hub):
    datastream = create_thing(hub).datastreams[0]
    before = count(hub, "Observations")
    rows = {
        "Datastream": {"@iot.id": datastream},
        "components": ["phenomenonTime", "result"],
        "dataArray": [["2024-02-01T00:00:00Z", 1.5], ["2024-02-01T00:01:00Z", 2.5]],
    }
    answers = post_json(
        hub,
        [{"id": "1", "method": "post", "url": "CreateObservations", "body": [rows]}],
    )
    assert answers[0]["status"] == 201, answers
    assert len(answers[0]["body"]) == 2
    assert all("/Observations(" in link for link in answers[0]["body"])
    assert count(hub, "Observations") == before + 2
    failing = [
        {
            "id": "1",
            "atomicityGroup": "g",
            "method": "post",
            "url": "CreateObservations",
            "body": [rows],
        },
        {
            "id": "2",
            "atomicityGroup": "g",
            "method": "post",
            "url": "Observations",
            "body": {"result": "not a number", "Datastream": {"@iot.id": datastream}},
        },
    ]
    answers = post_json(hub, failing)
    assert answers[1]["status"] == 400, answers
    assert count(hub, "Observations") == before + 2  # the change set left nothing
