"""Mirroring another SensorThings server: selected Things, their Datastreams, and only the
Observations newer than those already mirrored, page by page."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime

import httpx
import pytest
from tests.connectors.helpers import FIXTURES, count, features_of, live

from cityhub.connectors.base import MEASUREMENT, ConnectorError
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.sensorthings_mirror import SensorThingsMirror
from cityhub.settings import load_settings
from cityhub.store import schema
from conftest import ADMIN_TOKEN, HubClient

BASE = "https://hub.olpe.example/v1.1"
CONFIG = {
    "type": "sensorthings",
    "url": BASE,
    "filter": "properties/town eq 'Olpe'",
    "first_run_days": 3650,
    "page_size": 2,
    "every": "10m",
}
_OBSERVATIONS = re.compile(r"/v1\.1/Datastreams\((\d+)\)/Observations")


class TownHub:
    """The recorded town hub: its Things pages as recorded, its Observations served as a
    SensorThings server would — filtered by time, oldest first, paged with nextLinks."""

    def __init__(self) -> None:
        self.pages = {
            None: (FIXTURES / "sensorthings/things.json").read_bytes(),
            "1": (FIXTURES / "sensorthings/things-2.json").read_bytes(),
        }
        self.observations = json.loads((FIXTURES / "sensorthings/observations.json").read_text())
        self.requests: list[httpx.Request] = []
        self.failure: httpx.Response | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failure is not None:
            return self.failure
        path, params = request.url.path, request.url.params
        if path == "/v1.1/Things":
            return httpx.Response(200, content=self.pages[params.get("$skip")])
        match = _OBSERVATIONS.fullmatch(path)
        if match is None:
            return httpx.Response(404, json={"code": 404, "type": "error", "message": "Not Found"})
        since = re.fullmatch(r"phenomenonTime gt (\S+)", params["$filter"])
        assert since is not None, params["$filter"]
        after = datetime.fromisoformat(since[1].replace("Z", "+00:00"))
        found = [
            o
            for o in self.observations[match[1]]
            if datetime.fromisoformat(o["phenomenonTime"].split("/")[0].replace("Z", "+00:00"))
            > after
        ]
        top, skip = int(params["$top"]), int(params.get("$skip", 0))
        body = {"value": found[skip : skip + top]}
        if skip + top < len(found):
            next_params = {**dict(params), "$skip": str(skip + top)}
            body["@iot.nextLink"] = str(request.url.copy_with(params=next_params))
        return httpx.Response(200, json=body)


@pytest.fixture
def town(hub, connectors):
    # The town's data comes under the town's licence: the regional hub makes the dataset.
    body = {"slug": "olpe", "title": "Stadt Olpe", "licence": "dl-by-de/2.0"}
    assert hub.post("/api/admin/datasets", json=body).status_code == 201
    made = connectors({"olpe": CONFIG})
    hub = TownHub()
    for path in [
        "/v1.1/Things",
        *(f"/v1.1/Datastreams({d})/Observations" for d in hub.observations),
    ]:
        made.source.routes[path] = hub.handle
    return made, hub


def things_of(hub_client) -> dict[str, dict]:
    query = "$expand=Locations,Datastreams($expand=Observations($orderby=phenomenonTime))"
    things = hub_client.get(f"/v1.1/Things?{query}").json()["value"]
    return {str(t["properties"]["sourceId"]): t for t in things}


def test_the_selected_things_are_mirrored_with_their_datastreams_and_observations(hub, town):
    made, source = town
    outcome = made.run("olpe")
    assert outcome.status == "ok", outcome.error
    summary = outcome.summary
    assert (summary.places_created, summary.things_created, summary.datastreams_created) == (
        2,
        2,
        3,
    )
    assert summary.observations_added == 6

    first = source.requests[0]
    assert first.url.params["$filter"] == "properties/town eq 'Olpe'"
    assert "Datastreams($expand=ObservedProperty)" in first.url.params["$expand"]
    assert any(r.url.params.get("$skip") == "1" for r in source.requests)  # Things, page 2
    # Datastream 11 has three Observations, two a page: its nextLink was followed.
    pages_11 = [r for r in source.requests if "Datastreams(11)" in r.url.path]
    assert len(pages_11) == 2

    mirrored = things_of(hub)
    station = mirrored["7"]
    assert station["name"] == "Klimastation Rathaus Olpe"
    assert station["properties"]["sourceUrl"] == f"{BASE}/Things(7)"
    assert station["properties"]["town"] == "Olpe"
    assert station["Locations"][0]["location"]["coordinates"] == [7.8514, 51.0289]
    streams = {d["properties"]["sourceId"]: d for d in station["Datastreams"]}
    temperature = streams[11]
    assert temperature["properties"]["sourceUrl"] == f"{BASE}/Datastreams(11)"
    assert temperature["unitOfMeasurement"]["symbol"] == "°C"
    assert [o["result"] for o in temperature["Observations"]] == [1.9, 2.2, 2.6]
    assert temperature["Observations"][2]["resultQuality"] == "checked"
    buoy = mirrored["9"]
    assert buoy["Locations"][0]["location"]["coordinates"] == [7.8652, 51.0528]
    water = buoy["Datastreams"][0]
    assert water["properties"]["depth_m"] == 0.5
    assert water["Observations"][0]["parameters"] == {"sensor": "PT100"}

    features = features_of(hub, "olpe")
    assert set(features) == {"7", "9"}
    assert features["7"]["provenance"]["source"] == BASE
    assert features["7"]["thing_id"] == station["@iot.id"]


def test_later_runs_fetch_only_newer_observations(hub, town):
    made, source = town
    made.run("olpe")
    held = count(hub, schema.observations)
    source.requests.clear()
    again = made.run("olpe")
    assert again.status == "ok", again.error
    assert not again.summary.changed
    assert again.summary.observations_known == 0  # nothing old was fetched again
    asked = {
        _OBSERVATIONS.fullmatch(r.url.path)[1]: r.url.params["$filter"]
        for r in source.requests
        if _OBSERVATIONS.fullmatch(r.url.path)
    }
    assert asked == {
        "11": "phenomenonTime gt 2026-12-03T06:00:00Z",
        "12": "phenomenonTime gt 2026-12-03T05:00:00Z",
        "21": "phenomenonTime gt 2026-12-03T04:00:00Z",
    }
    assert count(hub, schema.observations) == held

    source.observations["12"].append(
        {"@iot.id": 1010, "phenomenonTime": "2026-12-03T06:00:00Z", "result": 89}
    )
    later = made.run("olpe").summary
    assert later.observations_added == 1
    assert later.things_created == 0
    humidity = next(
        d for d in things_of(hub)["7"]["Datastreams"] if d["properties"]["sourceId"] == 12
    )
    assert [o["result"] for o in humidity["Observations"]] == [93, 91, 89]


def test_an_error_answer_fails_and_keeps_the_mirror(hub, town):
    made, source = town
    made.run("olpe")
    held = count(hub, schema.observations)
    source.failure = httpx.Response(
        200, json={"code": 500, "type": "error", "message": "database connection lost"}
    )
    failed = made.run("olpe")
    assert failed.status == "failed"
    assert "expected a SensorThings collection with 'value'" in failed.error
    source.failure = httpx.Response(503, text="Service Unavailable")
    assert made.run("olpe").status == "failed"
    assert count(hub, schema.observations) == held
    assert all(f["gone_at"] is None for f in features_of(hub, "olpe").values())


def test_a_source_url_is_required():
    config = ConnectorConfig.model_validate({"type": "sensorthings"})
    with pytest.raises(ConnectorError, match="base URL as 'url'"):
        SensorThingsMirror("olpe", config)


@live
def test_sensorthings_live(hub, connectors):
    """A public SensorThings server still answers in the format the connector reads."""
    config = {
        "type": "sensorthings",
        "url": "https://airquality-frost.k8s.ilt-dmz.iosb.fraunhofer.de/v1.1",
        "filter": "id eq 1",
        "first_run_days": 1,
        "max_observations": 10,
    }
    outcome = connectors({"frost": config}, live=True).run("frost")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 1


@pytest.fixture
def town_hub(tmp_path, sqlite_template):
    """A second hub, the town's, on a SQLite database of its own."""
    folder = tmp_path / "town"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "cityhub.sqlite3")
    client = HubClient(load_settings({"data_dir": folder, "admin_token": ADMIN_TOKEN}, environ={}))
    yield client
    client.close()


def test_mirroring_our_own_server_in_process(hub, town_hub, connectors):
    """A town hub running cityhub itself, served in-process, mirrored into the regional hub."""
    body = {"slug": "region", "title": "Region", "licence": "dl-by-de/2.0"}
    assert hub.post("/api/admin/datasets", json=body).status_code == 201

    def station(name: str, town: str, results: list[float]) -> dict:
        observations = [
            {"phenomenonTime": f"2026-12-03T0{hour}:00:00Z", "result": value}
            for hour, value in enumerate(results, start=4)
        ]
        return {
            "name": name,
            "description": "Lufttemperatur",
            "properties": {"town": town},
            "Locations": [
                {
                    "name": name,
                    "description": town,
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": [7.9, 51.0]},
                }
            ],
            "Datastreams": [
                {
                    "name": f"Lufttemperatur {name}",
                    "description": "2 m",
                    "unitOfMeasurement": {"name": "degree Celsius", "symbol": "°C"},
                    "observationType": MEASUREMENT,
                    "Sensor": {
                        "name": "DHT22",
                        "description": "d",
                        "encodingType": "text/html",
                        "metadata": "https://example.org/dht22",
                    },
                    "ObservedProperty": {
                        "name": "Lufttemperatur",
                        "description": "d",
                        "definition": "http://vocab.nerc.ac.uk/standard_name/air_temperature",
                    },
                    "Observations": observations,
                }
            ],
        }

    for name, town, results in (
        ("Rathaus", "Attendorn", [1.0, 1.5, 2.0]),
        ("Hansestraße", "Attendorn", [0.5]),
        ("Markt", "Lennestadt", [3.0]),
    ):
        assert town_hub.post("/v1.1/Things", json=station(name, town, results)).status_code == 201

    def forward(request: httpx.Request) -> httpx.Response:
        answer = town_hub.get(request.url.raw_path.decode())
        rebased = answer.content.replace(b"http://testserver", b"https://attendorn.example")
        return httpx.Response(answer.status_code, content=rebased, headers=answer.headers)

    config = {
        "type": "sensorthings",
        "url": "https://attendorn.example/v1.1",
        "dataset": "region",
        "filter": "properties/town eq 'Attendorn'",
        "first_run_days": 3650,
        "page_size": 2,
    }
    made = connectors({"attendorn": config})
    for path in ("/v1.1/Things", *(f"/v1.1/Datastreams({n})/Observations" for n in (1, 2, 3))):
        made.source.routes[path] = forward
    outcome = made.run("attendorn")
    assert outcome.status == "ok", outcome.error
    assert (outcome.summary.things_created, outcome.summary.observations_added) == (2, 4)
    mirrored = {t["name"]: t for t in things_of(hub).values()}
    assert set(mirrored) == {"Rathaus", "Hansestraße"}
    assert mirrored["Rathaus"]["properties"]["sourceUrl"].startswith(
        "https://attendorn.example/v1.1/Things("
    )
    assert [o["result"] for o in mirrored["Rathaus"]["Datastreams"][0]["Observations"]] == [
        1.0,
        1.5,
        2.0,
    ]
    assert not made.run("attendorn").summary.changed
