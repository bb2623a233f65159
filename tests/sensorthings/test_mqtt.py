"""The MQTT extension (clause 14), per conformance class, on both database backends and against
the embedded broker and a real Mosquitto (skipped with a reason when none is reachable, unless
CITYHUB_REQUIRE_MOSQUITTO=1)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityhub.auth import create_token
from cityhub.errors import BadRequest
from cityhub.mqtt.service import CREATE_CLASS, RECEIVE_CLASS
from cityhub.sensorthings import writes
from cityhub.sensorthings.model import BY_NAME
from cityhub.store import schema
from cityhub.store.changes import Change
from conftest import HubClient

from .helpers import V, create_thing, created_id, datastream_body
from .mqtt_helpers import (
    TIMEOUT,
    client_for,
    free_port,
    mqtt_settings,
    mqtt_stats,
    require_mosquitto,
    start_hub,
    wait_for,
)


def _observation_count(hub: HubClient) -> int:
    return hub.get(f"{V}/Observations", params={"$count": "true", "$top": "0"}).json()["@iot.count"]


# --- service root ---------------------------------------------------------------------------


def test_service_root_lists_the_mqtt_classes_and_endpoint(mqtt_hub):
    settings = mqtt_hub.get(V).json()["serverSettings"]
    assert CREATE_CLASS in settings["conformance"]
    assert RECEIVE_CLASS in settings["conformance"]
    if mqtt_hub.settings.mqtt_url:
        expected = "mqtt://127.0.0.1:1883"
    else:
        expected = f"mqtt://testserver:{mqtt_hub.settings.mqtt_port}"
    assert settings[CREATE_CLASS] == {"endpoints": [expected]}
    assert settings[RECEIVE_CLASS] == {"endpoints": [expected]}


def test_without_mqtt_the_service_root_claims_no_mqtt(hub):
    settings = hub.get(V).json()["serverSettings"]
    assert CREATE_CLASS not in settings["conformance"]
    assert CREATE_CLASS not in settings
    assert hub.get("/api/mqtt").json() == {"enabled": False}


# --- receive-updates-via-mqtt ---------------------------------------------------------------


def test_the_writer_hands_on_only_what_was_committed(hub):
    """A request rejected inside a batch takes its recorded changes with it."""
    received: list[list[Change]] = []
    hub.store.set_commit_listener(received.append)
    thing = BY_NAME["Thing"]
    release = threading.Event()

    def create(name: str, fail: bool = False):
        def write(connection):
            writes.create(connection, thing, {"name": name, "description": "d"})
            if fail:
                raise BadRequest("rejected after creating")

        return write

    blocker = hub.store.queue_write(lambda connection: release.wait(TIMEOUT))
    batch = [hub.store.queue_write(create(n, n == "x")) for n in ("a", "x", "b")]
    release.set()
    blocker.result(TIMEOUT)
    for future in batch:
        future.exception(TIMEOUT)
    created = [c.id for changes in received for c in changes if c.entity == "Thing"]
    things = hub.get(f"{V}/Things", params={"$orderby": "id"}).json()["value"]
    assert [t["name"] for t in things] == ["a", "b"]
    assert created == [t["@iot.id"] for t in things]
    assert all(c.kind == "created" for changes in received for c in changes)


def test_subscribers_receive_created_entities_of_sets_and_navigation_collections(
    mqtt_hub, mqtt_client
):
    seeded = create_thing(mqtt_hub, datastreams=[datastream_body("level")])
    datastream_id = seeded.datastreams[0]
    mqtt_client.subscribe(
        "v1.1/Observations", f"v1.1/Datastreams({datastream_id})/Observations", "v1.1/Things"
    )
    response = mqtt_hub.post(f"{V}/Datastreams({datastream_id})/Observations", {"result": 1.5})
    expected = response.json()
    (on_set,) = mqtt_client.receive_on("v1.1/Observations")
    (on_navigation,) = mqtt_client.receive_on(f"v1.1/Datastreams({datastream_id})/Observations")
    assert on_set == expected == on_navigation
    assert on_set["@iot.selfLink"] == f"http://testserver/v1.1/Observations({on_set['@iot.id']})"
    # Deep insert: the Thing is notified as created on its set.
    thing_id = create_thing(mqtt_hub, name="third", datastreams=[]).thing
    (thing,) = mqtt_client.receive_on("v1.1/Things", where=lambda t: t["name"] == "third")
    assert thing["@iot.id"] == thing_id != seeded.thing


def test_subscribers_receive_updates_of_entities_properties_and_set_members(mqtt_hub, mqtt_client):
    thing_id = create_thing(mqtt_hub, datastreams=[]).thing
    mqtt_client.subscribe(
        "v1.1/Things", f"v1.1/Things({thing_id})", f"v1.1/Things({thing_id})/name"
    )
    mqtt_client.subscribe(f"v1.1/Things({thing_id})/description")
    response = mqtt_hub.patch(f"{V}/Things({thing_id})", {"name": "Pegel Wupper"})
    assert response.status_code == 200, response.text
    (entity,) = mqtt_client.receive_on(f"v1.1/Things({thing_id})")
    assert entity == response.json()
    assert mqtt_client.receive_on(f"v1.1/Things({thing_id})/name") == [{"name": "Pegel Wupper"}]
    (member,) = mqtt_client.receive_on(
        "v1.1/Things", where=lambda t: t["name"] != "Weather station"
    )
    assert member == entity
    # Only changed properties are notified: the description topic stays silent until PUT.
    assert all(topic != f"v1.1/Things({thing_id})/description" for topic, _ in mqtt_client.drain())
    put = {"name": "Pegel", "description": "neu"}
    assert mqtt_hub.put(f"{V}/Things({thing_id})", put).status_code == 200
    assert mqtt_client.receive_on(f"v1.1/Things({thing_id})/description") == [
        {"description": "neu"}
    ]


def test_batch_requests_notify_what_they_created_and_updated(mqtt_hub, mqtt_client):
    thing_id = create_thing(mqtt_hub, datastreams=[]).thing
    mqtt_client.subscribe("v1.1/Things", f"v1.1/Things({thing_id})/name")
    requests = [
        {"id": "1", "method": "post", "url": "Things", "body": {"name": "b", "description": "d"}},
        {"id": "2", "method": "patch", "url": f"Things({thing_id})", "body": {"name": "renamed"}},
    ]
    response = mqtt_hub.request(
        "POST", f"{V}/$batch", json={"requests": requests}, headers=mqtt_hub.admin
    )
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["responses"]] == [201, 200]
    mqtt_client.receive_on("v1.1/Things", where=lambda t: t["name"] == "b")
    assert mqtt_client.receive_on(f"v1.1/Things({thing_id})/name") == [{"name": "renamed"}]


def test_select_topics_deliver_the_selected_properties(backend_settings):
    """``$select`` topics need the embedded broker, which tells the hub what is subscribed."""
    hub = start_hub(mqtt_settings(backend_settings, "embedded"))
    client = client_for(hub)
    try:
        seeded = create_thing(hub)
        datastream = seeded.datastreams[0]
        client.subscribe(
            "v1.1/Observations?$select=result,phenomenonTime",
            f"v1.1/Datastreams({datastream})/Observations?$select=id,result",
        )
        mqtt_observation = {"result": 7, "phenomenonTime": "2024-05-01T00:00:00Z"}
        url = f"{V}/Datastreams({datastream})/Observations"
        new_id = created_id(hub.post(url, mqtt_observation))
        topic = "v1.1/Observations?$select=result,phenomenonTime"
        (selected,) = client.receive_on(topic, where=lambda o: o["result"] == 7)
        assert selected == {"result": 7, "phenomenonTime": "2024-05-01T00:00:00Z"}
        topic = f"v1.1/Datastreams({datastream})/Observations?$select=id,result"
        (by_id,) = client.receive_on(topic, where=lambda o: o["result"] == 7)
        assert by_id == {"@iot.id": new_id, "result": 7}
    finally:
        client.close()
        hub.close()


def test_with_no_subscriber_the_embedded_hub_publishes_nothing(backend_settings):
    hub = start_hub(mqtt_settings(backend_settings, "embedded"))
    try:
        create_thing(hub)
        assert hub.app.state.mqtt.notifier.idle.wait(TIMEOUT)
        assert mqtt_stats(hub)["notifications"] == 0
    finally:
        hub.close()


# --- create-observations-via-mqtt ------------------------------------------------------------


def test_qos1_create_is_acknowledged_by_the_hub_only_after_its_commit(mqtt_hub, mqtt_client):
    """The broker acknowledges the publisher; the hub acknowledges the broker only once the
    Observation is committed, so a create the hub loses before committing is delivered again."""
    datastream = create_thing(mqtt_hub, datastreams=[datastream_body("t")]).datastreams[0]
    mqtt = mqtt_hub.app.state.mqtt
    stored_when_acked: list[int] = []
    acknowledge = mqtt.consumer.ack

    def ack_noting_what_is_stored(message):
        if b"@iot.selfLink" not in message.payload:  # not one of the hub's own notifications
            stored = select(func.count()).where(schema.observations.c.datastream_id == datastream)
            stored_when_acked.append(mqtt_hub.store.read_blocking(lambda c: c.scalar(stored)))
        acknowledge(message)

    mqtt.consumer.ack = ack_noting_what_is_stored
    topics = ("v1.1/Observations", f"v1.1/Datastreams({datastream})/Observations")
    for count, topic in enumerate(topics, start=1):
        body = {"result": 42.5, "phenomenonTime": "2024-06-01T12:00:00Z"}
        if count == 1:
            body["Datastream"] = {"@iot.id": datastream}
        mqtt_client.publish(topic, body, qos=1).wait_for_publish(TIMEOUT)
        wait_for(lambda n=count: len(stored_when_acked) == n, "the hub's acknowledgement")
    assert stored_when_acked == [1, 2]
    values = mqtt_hub.get(f"{V}/Datastreams({datastream})/Observations").json()["value"]
    assert [(o["result"], o["phenomenonTime"]) for o in values] == [
        (42.5, "2024-06-01T12:00:00Z")
    ] * 2
    assert mqtt_stats(mqtt_hub)["created"] == 2


def test_qos0_publishes_are_stored_in_bulk(mqtt_hub, mqtt_client):
    datastream = create_thing(mqtt_hub, datastreams=None).datastreams[0]
    before = _observation_count(mqtt_hub)
    for index in range(50):
        mqtt_client.publish(f"v1.1/Datastreams({datastream})/Observations", {"result": index}, 0)
    wait_for(lambda: _observation_count(mqtt_hub) == before + 50, "50 stored Observations")
    results = mqtt_hub.get(
        f"{V}/Datastreams({datastream})/Observations",
        params={"$top": "50", "$orderby": "id desc", "$select": "result"},
    ).json()["value"]
    assert sorted(item["result"] for item in results) == list(range(50))


def test_publish_to_a_feature_of_interest_creates_there(mqtt_hub, mqtt_client):
    seeded = create_thing(mqtt_hub)
    datastream = seeded.datastreams[0]
    first = seeded.observations[datastream][0]
    feature = mqtt_hub.get(f"{V}/Observations({first})/FeatureOfInterest").json()["@iot.id"]
    body = {"result": 3.25, "Datastream": {"@iot.id": datastream}}
    mqtt_client.publish(f"v1.1/FeaturesOfInterest({feature})/Observations", body)
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 1, "the create")
    found = mqtt_hub.get(
        f"{V}/FeaturesOfInterest({feature})/Observations", params={"$filter": "result eq 3.25"}
    ).json()["value"]
    assert len(found) == 1


def test_malformed_messages_are_counted_and_later_ones_still_stored(mqtt_hub, mqtt_client):
    datastream = create_thing(mqtt_hub).datastreams[0]
    before = _observation_count(mqtt_hub)
    bad = [
        ("v1.1/Observations", b"{not json"),  # not JSON
        (f"v1.1/Datastreams({datastream})/Observations", {"result": "warm"}),  # wrong type
        (f"v1.1/Datastreams({datastream})/Observations", ["a list"]),  # not an object
        ("v1.1/Datastreams(987654)/Observations", {"result": 1}),  # unknown Datastream
        ("v1.1/FeaturesOfInterest(987654)/Observations", {"result": 1}),  # unknown feature
        ("v1.1/Observations", {"result": 1}),  # no Datastream at all
        ("v1.1/Things/Observations", {"result": 1}),  # a topic that cannot create
        ("v1.1/Sensors(1)/Observations", {"result": 1}),  # no such relation
    ]
    for topic, payload in bad:
        mqtt_client.publish(topic, payload, qos=1)
    mqtt_client.publish(f"v1.1/Datastreams({datastream})/Observations", {"result": 9.5})
    # Messages are handled in order: once the good one is stored, every bad one was counted.
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 1, "the good message to be stored")
    assert _observation_count(mqtt_hub) == before + 1
    stats = mqtt_stats(mqtt_hub)
    assert stats["rejected"] == len(bad)
    assert stats["received"] == len(bad) + 1


def test_notifications_on_create_topics_do_not_create_again(mqtt_hub, mqtt_client):
    """The hub's own notifications on v1.1/Observations and v1.1/Datastreams(n)/Observations
    are never stored again: an external broker sends them back on the hub's create
    subscription, where they are recognised and ignored."""
    datastream = create_thing(mqtt_hub, datastreams=[datastream_body("t")]).datastreams[0]
    mqtt_client.subscribe("v1.1/Observations", f"v1.1/Datastreams({datastream})/Observations")
    mqtt_client.publish(f"v1.1/Datastreams({datastream})/Observations", {"result": 1.0})
    mqtt_hub.post(f"{V}/Datastreams({datastream})/Observations", {"result": 2.0})
    for result in (1.0, 2.0):
        for topic in ("v1.1/Observations", f"v1.1/Datastreams({datastream})/Observations"):
            mqtt_client.receive_on(topic, where=lambda o, r=result: o["result"] == r)
    if mqtt_hub.settings.mqtt_url is None:
        # The embedded broker hands notifications to the other subscribers only.
        assert mqtt_hub.app.state.mqtt.notifier.idle.wait(TIMEOUT)
        assert mqtt_stats(mqtt_hub)["ignored"] == 0
    else:
        # To an external broker the hub publishes v1.1/Observations, Datastreams(n)/… and
        # FeaturesOfInterest(n)/Observations; each comes back on its create subscription.
        wait_for(lambda: mqtt_stats(mqtt_hub)["ignored"] == 6, "the hub to see its notifications")
    assert _observation_count(mqtt_hub) == 2
    assert mqtt_stats(mqtt_hub)["created"] == 1


def test_a_lone_hub_on_mosquitto_gets_none_of_its_notifications_back(backend_settings):
    """Without a shared subscription the hub subscribes with MQTT 5 no-local."""
    require_mosquitto()
    hub = start_hub(mqtt_settings(backend_settings, "mosquitto", mqtt_shared_group=""))
    client = client_for(hub)
    try:
        datastream = create_thing(hub, datastreams=[datastream_body("t")]).datastreams[0]
        client.subscribe("v1.1/Observations")
        client.publish(f"v1.1/Datastreams({datastream})/Observations", {"result": 1.0})
        hub.post(f"{V}/Datastreams({datastream})/Observations", {"result": 2.0})
        notified = client.receive_on("v1.1/Observations", 2)
        assert sorted(n["result"] for n in notified) == [1.0, 2.0]
        assert hub.app.state.mqtt.notifier.idle.wait(TIMEOUT)
        assert mqtt_stats(hub)["ignored"] == 0
        assert _observation_count(hub) == 2
    finally:
        client.close()
        hub.close()


def test_notifications_wait_while_the_broker_is_away(backend_settings, tmp_path):
    """Through an external broker a round of notifications goes out only once the broker
    has the one before: while it is away, later commits wait in the backlog (bounded), not
    in the client; they follow when it is back."""
    binary = shutil.which("mosquitto")
    if binary is None:
        require_mosquitto()  # fails where Mosquitto is required, skips elsewhere
        pytest.skip("no mosquitto binary to start a broker of this test's own")
    port = free_port()
    settings = mqtt_settings(backend_settings, "mosquitto", mqtt_url=f"mqtt://127.0.0.1:{port}")
    hub = HubClient(settings)
    broker = None
    try:
        notifier = hub.app.state.mqtt.notifier
        datastream = create_thing(hub, datastreams=[datastream_body("t")]).datastreams[0]
        wait_for(lambda: mqtt_stats(hub)["notifications"] > 0, "the first round")
        first_round = mqtt_stats(hub)["notifications"]
        hub.post(f"{V}/Datastreams({datastream})/Observations", {"result": 1.0})
        assert not notifier.idle.wait(1.5)  # waits for the broker
        assert mqtt_stats(hub)["notifications"] == first_round
        config = tmp_path / "mosquitto.conf"
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
        broker = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
        assert notifier.idle.wait(TIMEOUT + 30)  # the hub reconnects with a backoff of <= 30 s
        assert mqtt_stats(hub)["notifications"] >= first_round + 3  # the Observation's topics
        assert mqtt_stats(hub)["unnotified"] == 0
    finally:
        hub.close()
        if broker is not None:
            broker.terminate()
            broker.wait(TIMEOUT)


def test_an_entity_representation_published_by_a_client_is_not_a_create(mqtt_hub, mqtt_client):
    datastream = create_thing(mqtt_hub).datastreams[0]
    before = _observation_count(mqtt_hub)
    echoed = mqtt_hub.get(f"{V}/Datastreams({datastream})/Observations").json()["value"][0]
    info = mqtt_client.publish("v1.1/Observations", echoed)
    info.wait_for_publish(TIMEOUT)
    wait_for(lambda: mqtt_stats(mqtt_hub)["ignored"] >= 1, "the echo to be ignored")
    assert _observation_count(mqtt_hub) == before


def test_embedded_broker_creates_need_a_writer_token_and_notifications_the_hub(
    backend_settings,
):
    """As over HTTP: reading (subscribing) is public, creating needs a publisher or admin
    token (as the MQTT password), and only the hub publishes to its other topics."""
    hub = start_hub(mqtt_settings(backend_settings, "embedded"))
    reader_token = hub.store.write_blocking(lambda c: create_token(c, "reader", "r"))
    clients = [client_for(hub, password) for password in (None, reader_token, "wrong")]
    try:
        datastream = create_thing(hub).datastreams[0]
        before = _observation_count(hub)
        for client in clients:
            client.publish(f"v1.1/Datastreams({datastream})/Observations", {"result": 1})
        clients[0].publish("v1.1/Things", {"name": "spoofed"})
        wait_for(lambda: mqtt_stats(hub)["refused"] == 4, "four refusals")
        assert _observation_count(hub) == before
        assert mqtt_stats(hub)["received"] == 0
    finally:
        for client in clients:
            client.close()
        hub.close()


def test_creates_published_while_the_hub_is_away_are_stored_when_it_returns(backend_settings):
    """The hub's session on an external broker is persistent: the broker queues QoS 1
    creates for it while it restarts."""
    require_mosquitto()
    settings = mqtt_settings(backend_settings, "mosquitto")
    hub = start_hub(settings)
    datastream = create_thing(hub, datastreams=[datastream_body("t")]).datastreams[0]
    hub.close()
    client = client_for(hub)
    try:
        for index in range(5):
            topic = f"v1.1/Datastreams({datastream})/Observations"
            client.publish(topic, {"result": index}).wait_for_publish(TIMEOUT)
        hub = start_hub(settings)
        try:
            wait_for(lambda: mqtt_stats(hub)["created"] == 5, "the queued creates")
            assert _observation_count(hub) == 5
        finally:
            hub.close()
    finally:
        client.close()


# --- deployment: several hubs, a taken port --------------------------------------------------


def test_the_hubs_connection_sends_each_packet_at_once(mqtt_hub):
    """Nagle's algorithm held an acknowledgement or notification back while the broker's TCP
    stack delayed its ack of the previous packet: each create waited up to 40 ms."""
    sock = mqtt_hub.app.state.mqtt.client._client.socket()
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_two_hubs_on_mosquitto_store_each_create_once_and_notify_once(backend_settings):
    require_mosquitto()
    first_settings = mqtt_settings(backend_settings, "mosquitto")
    tag = first_settings.mqtt_topic_prefix
    second_settings = first_settings.model_copy(update={"mqtt_client_id": f"{tag}second"})
    first = start_hub(first_settings)
    second = start_hub(second_settings)
    client = client_for(first)
    try:
        datastream = create_thing(first, datastreams=[datastream_body("t")]).datastreams[0]
        client.subscribe("v1.1/Observations")
        count = 40
        for i in range(count):
            client.publish(f"v1.1/Datastreams({datastream})/Observations", {"result": i})
        notified = client.receive_on("v1.1/Observations", count)
        assert sorted(n["result"] for n in notified) == list(range(count))
        created = [mqtt_stats(hub)["created"] for hub in (first, second)]
        assert sum(created) == count
        assert all(created), f"the shared subscription spread the creates: {created}"
        results = first.get(
            f"{V}/Datastreams({datastream})/Observations",
            params={"$top": "1000", "$select": "result"},
        ).json()["value"]
        assert sorted(item["result"] for item in results) == list(range(count)), "stored once"
        for hub in (first, second):
            assert hub.app.state.mqtt.notifier.idle.wait(TIMEOUT)
        # Every notification came from the one hub that committed: no duplicates follow.
        extra = [p for t, p in client.drain() if t == "v1.1/Observations"]
        assert extra == []
    finally:
        client.close()
        second.close()
        first.close()


def test_embedded_broker_port_in_use_hub_starts_and_says_so(backend_settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = backend_settings.model_copy(update={"mqtt_enabled": True, "mqtt_port": port})
        hub = HubClient(settings)
        try:
            assert hub.get(V).status_code == 200
            status = mqtt_stats(hub)
            assert status["connected"] is False
            assert f"127.0.0.1:{port} is already in use" in status["problem"]
            assert "--mqtt-port" in status["problem"]
            assert "--mqtt-url" in status["problem"]
            assert CREATE_CLASS not in hub.get(V).json()["serverSettings"]["conformance"]
        finally:
            hub.close()


def _serve_banner(data_dir: Path, mqtt_port: int) -> str:
    """What ``cityhub serve`` prints before it serves (the first five lines)."""
    root = Path(__file__).parent.parent.parent
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    command = [sys.executable, "-m", "cityhub", "serve", "--port", "0"]
    command += ["--data-dir", str(data_dir), "--mqtt-port", str(mqtt_port)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            return "".join(process.stdout.readline() for _ in range(5))
        finally:
            process.terminate()
            process.wait(TIMEOUT)


def test_serve_prints_the_mqtt_endpoint_or_why_there_is_none(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        banner = _serve_banner(tmp_path, port)
    assert f"127.0.0.1:{port} is already in use" in banner
    assert "--mqtt-url" in banner
    free = free_port()
    assert f"MQTT:              mqtt://127.0.0.1:{free} (embedded broker)" in _serve_banner(
        tmp_path, free
    )
