"""Restricted datasets are invisible through every part of the SensorThings face.

A public Thing and a Thing in a restricted dataset share one Sensor; everything else of the
restricted Thing is its own. Anonymous readers and tokens without the dataset see only the
public data; an admin token and a token bound to the dataset see both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cityhub import auth, datasets

from .helpers import (
    V,
    all_ids,
    create_thing,
    created_id,
    datastream_body,
    ids,
    location_body,
    observation,
)


@dataclass
class World:
    open: object
    secret: object
    shared_sensor: int
    own_sensor: int
    own_property: int
    secret_feature: int
    reader: dict[str, str]  # a reader token bound to the restricted dataset
    publisher: dict[str, str]  # a publisher token bound to nothing


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(hub) -> World:
    def setup(connection):
        datasets.create_dataset(connection, slug="offen", title="Offen", licence="cc-zero")
        secret = datasets.create_dataset(
            connection, slug="intern", title="Intern", licence="cc-zero", visibility="restricted"
        )
        reader = auth.create_token(connection, "reader", "intern-reader", secret)
        publisher = auth.create_token(connection, "publisher", "publisher")
        return reader, publisher

    reader, publisher = hub.store.write_blocking(setup)
    open_thing = create_thing(hub, "Pegel Wupper", properties={"dataset": "offen"})
    shared = hub.get(f"{V}/Datastreams({open_thing.datastreams[0]})/Sensor").json()["@iot.id"]
    own = datastream_body(
        "co2",
        [observation(612, "2024-01-01T00:00:00Z"), observation(640, "2024-01-01T01:00:00Z")],
    )
    shares = datastream_body("noise", [observation(41, "2024-01-01T00:00:00Z")])
    shares["Sensor"] = {"@iot.id": shared}
    secret_thing = create_thing(
        hub,
        "Schule Innen",
        datastreams=[own, shares],
        location=location_body("Klassenzimmer", (7.09, 51.18)),
        properties={"dataset": "intern"},
    )
    own_id = secret_thing.datastreams[0]
    admin = hub.admin
    own_sensor = hub.get(f"{V}/Datastreams({own_id})/Sensor", headers=admin).json()["@iot.id"]
    own_property = hub.get(f"{V}/Datastreams({own_id})/ObservedProperty", headers=admin).json()
    first = secret_thing.observations[own_id][0]
    feature = hub.get(f"{V}/Observations({first})/FeatureOfInterest", headers=admin).json()
    return World(
        open_thing,
        secret_thing,
        shared,
        own_sensor,
        own_property["@iot.id"],
        feature["@iot.id"],
        _bearer(reader),
        _bearer(publisher),
    )


def _everything(hub, headers: dict[str, str]) -> dict[str, list[int]]:
    sets = ("Things", "Locations", "Datastreams", "Sensors", "ObservedProperties")
    found = {name: ids(hub.get(f"{V}/{name}", headers=headers)) for name in sets}
    found["Observations"] = ids(hub.get(f"{V}/Observations?$top=100", headers=headers))
    found["FeaturesOfInterest"] = ids(hub.get(f"{V}/FeaturesOfInterest", headers=headers))
    return found


def test_anonymous_readers_see_only_public_data(hub, world):
    seen = _everything(hub, {})
    assert seen["Things"] == [world.open.thing]
    assert seen["Locations"] == [world.open.location]
    assert seen["Datastreams"] == world.open.datastreams
    assert world.shared_sensor in seen["Sensors"]
    assert world.own_sensor not in seen["Sensors"]
    assert world.own_property not in seen["ObservedProperties"]
    assert world.secret_feature not in seen["FeaturesOfInterest"]
    assert sorted(seen["Observations"]) == sorted(
        world.open.observations[world.open.datastreams[0]]
    )


def test_tokens_that_may_read_the_dataset_see_it(hub, world):
    for headers in (hub.admin, world.reader):
        seen = _everything(hub, headers)
        assert seen["Things"] == [world.open.thing, world.secret.thing]
        assert world.own_sensor in seen["Sensors"]
        assert world.secret_feature in seen["FeaturesOfInterest"]
    assert _everything(hub, world.publisher)["Things"] == [world.open.thing]


@pytest.mark.parametrize(
    "path",
    [
        "Things({thing})",
        "Things({thing})/Datastreams",
        "Datastreams({datastream})",
        "Datastreams({datastream})/Observations",
        "Datastreams({datastream})/Thing",
        "Locations({location})",
        "Sensors({sensor})",
        "ObservedProperties({property})",
        "FeaturesOfInterest({feature})",
        "Things({thing})/name",
        "Datastreams({datastream})/Observations/$aggregate?interval=PT1H"
        "&phenomenonTime=2024-01-01T00:00:00Z/2024-01-02T00:00:00Z",
    ],
)
def test_hidden_entities_are_not_found(hub, world, path):
    url = (
        V
        + "/"
        + path.format(
            thing=world.secret.thing,
            datastream=world.secret.datastreams[0],
            location=world.secret.location,
            sensor=world.own_sensor,
            property=world.own_property,
            feature=world.secret_feature,
        )
    )
    assert hub.get(url).status_code == 404
    assert hub.get(url, headers=world.reader).status_code == 200


def test_navigation_expand_and_count_leave_hidden_members_out(hub, world):
    public, secret = world.open.datastreams[0], world.secret.datastreams[1]
    sensor = world.shared_sensor
    assert ids(hub.get(f"{V}/Sensors({sensor})/Datastreams")) == [public]
    expanded = hub.get(f"{V}/Sensors({sensor})?$expand=Datastreams($count=true)").json()
    assert [d["@iot.id"] for d in expanded["Datastreams"]] == [public]
    assert expanded["Datastreams@iot.count"] == 1
    as_reader = hub.get(f"{V}/Sensors({sensor})/Datastreams", headers=world.reader)
    assert sorted(ids(as_reader)) == sorted([public, secret])
    public_count = len(world.open.observations[public])
    counted = hub.get(f"{V}/Observations?$count=true&$top=0").json()["@iot.count"]
    assert counted == public_count
    counted = hub.get(f"{V}/Observations?$count=true&$top=0", headers=hub.admin).json()
    assert counted["@iot.count"] == public_count + 3
    things = hub.get(f"{V}/Things?$count=true").json()
    assert things["@iot.count"] == 1


def test_data_array_reads_leave_hidden_observations_out(hub, world):
    body = hub.get(f"{V}/Observations?$resultFormat=dataArray").json()
    streams = {group["Datastream@iot.navigationLink"] for group in body["value"]}
    assert streams == {f"http://testserver{V}/Datastreams({world.open.datastreams[0]})"}


def test_a_thing_joins_the_dataset_its_properties_or_its_token_name(hub, world):
    thing = {"name": "Neu", "description": "d", "properties": {"dataset": "intern"}}
    created = created_id(hub.post(f"{V}/Things", thing))
    assert hub.get(f"{V}/Things({created})").status_code == 404

    def bound_publisher(connection):
        secret = datasets.dataset_id_of(connection, "intern")
        return auth.create_token(connection, "publisher", "intern-writer", secret)

    token = hub.store.write_blocking(bound_publisher)
    response = hub.post(
        f"{V}/Things", {"name": "Sensor", "description": "d"}, auth=False, headers=_bearer(token)
    )
    bound = created_id(response)
    assert hub.get(f"{V}/Things({bound})").status_code == 404
    assert hub.get(f"{V}/Things({bound})", headers=_bearer(token)).status_code == 200


def test_writers_cannot_reach_or_fill_datasets_they_may_not_read(hub, world):
    secret = f"{V}/Things({world.secret.thing})"
    headers = world.publisher
    assert hub.patch(secret, {"name": "x"}, auth=False, headers=headers).status_code == 404
    assert hub.delete(secret, auth=False, headers=headers).status_code == 404
    smuggled = {"name": "x", "description": "d", "properties": {"dataset": "intern"}}
    response = hub.post(f"{V}/Things", smuggled, auth=False, headers=headers)
    assert response.status_code == 400
    assert "no dataset 'intern'" in response.json()["message"]
    datastream = datastream_body("x")
    datastream["Thing"] = {"@iot.id": world.secret.thing}
    response = hub.post(f"{V}/Datastreams", datastream, auth=False, headers=headers)
    assert response.status_code == 400
    assert "does not exist" in response.json()["message"]
    unknown = {"name": "x", "description": "d", "properties": {"dataset": "gibt-es-nicht"}}
    assert hub.post(f"{V}/Things", unknown).status_code == 400
    assert all_ids(hub, f"{V}/Things") == [world.open.thing]


def test_writers_cannot_add_observations_to_datastreams_they_may_not_read(hub, world):
    """Every way of creating Observations follows the one rule: single, batched, bulk."""
    secret = world.secret.datastreams[0]
    headers = world.publisher
    single = {"result": 1, "Datastream": {"@iot.id": secret}}
    bulk = [{"Datastream": {"@iot.id": secret}, "components": ["result"], "dataArray": [[1]]}]
    for url, body in (
        (f"{V}/Observations", single),
        (f"{V}/CreateObservations", bulk),
        (f"{V}/Datastreams({secret})/Observations", {"result": 1}),
    ):
        response = hub.post(url, body, auth=False, headers=headers)
        assert response.status_code in (400, 404), (url, response.text)
        assert f"Datastream with @iot.id {secret}" in response.text or (
            f"Datastream({secret}) does not exist" in response.text
        )
    before = len(world.secret.observations[secret])
    admin_count = hub.get(f"{V}/Datastreams({secret})/Observations", headers=hub.admin).json()
    assert len(admin_count["value"]) == before
    bound = hub.post(f"{V}/CreateObservations", bulk, auth=False, headers=hub.admin)
    assert bound.status_code == 201
