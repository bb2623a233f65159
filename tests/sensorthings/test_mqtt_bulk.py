"""``v1.1/CreateObservations`` over MQTT: the body of ``POST CreateObservations`` in one message,
on both database backends, against the embedded broker and a real Mosquitto."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import func, select

from cityhub import datasets
from cityhub.auth import create_token
from cityhub.errors import ServiceUnavailable
from cityhub.store import schema
from conftest import HubClient

from .helpers import V, create_thing, datastream_body
from .mqtt_helpers import TIMEOUT, client_for, mqtt_settings, mqtt_stats, start_hub, wait_for
from .test_multidatastream import multi_body, only_id, thing_with

TOPIC = "v1.1/CreateObservations"


def _group(datastream: int, rows: list[list[Any]]) -> dict[str, Any]:
    return {
        "Datastream": {"@iot.id": datastream},
        "components": ["phenomenonTime", "result"],
        "dataArray": rows,
    }


def _results(hub: HubClient, datastream: int) -> list[tuple[str, Any]]:
    values = hub.get(
        f"{V}/Datastreams({datastream})/Observations",
        params={"$orderby": "phenomenonTime", "$top": "1000", "$select": "phenomenonTime,result"},
        headers=hub.admin,
    ).json()["value"]
    return [(o["phenomenonTime"], o["result"]) for o in values]


def _stored_in(hub: HubClient, datastream: int) -> int:
    statement = select(func.count()).where(schema.observations.c.datastream_id == datastream)
    return hub.store.read_blocking(lambda connection: connection.scalar(statement))


def _fresh_datastream(hub: HubClient) -> int:
    return create_thing(hub, datastreams=[datastream_body("level")]).datastreams[0]


def test_a_message_creates_every_row_and_is_acknowledged_after_its_commit(mqtt_hub, mqtt_client):
    first, second = create_thing(
        mqtt_hub, datastreams=[datastream_body("a"), datastream_body("b")]
    ).datastreams
    mqtt = mqtt_hub.app.state.mqtt
    stored_when_acked: list[int] = []
    acknowledge = mqtt.consumer.ack

    def ack_noting_what_is_stored(message):
        if message.topic.endswith(TOPIC):
            stored_when_acked.append(_stored_in(mqtt_hub, first) + _stored_in(mqtt_hub, second))
        acknowledge(message)

    mqtt.consumer.ack = ack_noting_what_is_stored
    body = [
        _group(first, [["2024-06-01T12:00:00Z", 1.5], ["2024-06-01T12:01:00Z", 2.5]]),
        _group(second, [["2024-06-01T12:00:00Z", 7]]),
    ]
    mqtt_client.publish(TOPIC, body, qos=1).wait_for_publish(TIMEOUT)
    wait_for(lambda: stored_when_acked, "the hub's acknowledgement")
    assert stored_when_acked == [3]
    assert _results(mqtt_hub, first) == [
        ("2024-06-01T12:00:00Z", 1.5),
        ("2024-06-01T12:01:00Z", 2.5),
    ]
    assert _results(mqtt_hub, second) == [("2024-06-01T12:00:00Z", 7)]
    stats = mqtt_stats(mqtt_hub)
    assert (stats["received"], stats["created"], stats["rejected"]) == (1, 3, 0)


def test_each_created_observation_is_notified_once(mqtt_hub, mqtt_client):
    datastream = _fresh_datastream(mqtt_hub)
    navigation = f"v1.1/Datastreams({datastream})/Observations"
    mqtt_client.subscribe("v1.1/Observations", navigation)
    rows = [[f"2024-06-01T12:0{i}:00Z", float(i)] for i in range(4)]
    mqtt_client.publish(TOPIC, [_group(datastream, rows)])
    on_set = mqtt_client.receive_on("v1.1/Observations", 4)
    on_navigation = mqtt_client.receive_on(navigation, 4)
    assert sorted(o["result"] for o in on_set) == [0.0, 1.0, 2.0, 3.0]
    assert sorted(on_set, key=lambda o: o["@iot.id"]) == sorted(
        on_navigation, key=lambda o: o["@iot.id"]
    )
    stored = mqtt_hub.get(f"{V}/Datastreams({datastream})/Observations").json()["value"]
    assert {o["@iot.id"] for o in on_set} == {o["@iot.id"] for o in stored}
    assert mqtt_hub.app.state.mqtt.notifier.idle.wait(TIMEOUT)
    again = [t for t, _ in mqtt_client.drain() if t in ("v1.1/Observations", navigation)]
    assert again == []


def test_a_multi_datastream_group_is_created(mqtt_hub, mqtt_client):
    thing = thing_with(mqtt_hub, multi_body())
    multi = only_id(mqtt_hub, f"{V}/Things({thing})/MultiDatastreams")
    body = [
        {
            "MultiDatastream": {"@iot.id": multi},
            "components": ["phenomenonTime", "result"],
            "dataArray": [
                ["2026-11-02T10:00:00Z", [19.5, 61, "N"]],
                ["2026-11-02T11:00:00Z", [20.0, 59, "NE"]],
            ],
        }
    ]
    mqtt_client.publish(TOPIC, body)
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 2, "the two rows")
    values = mqtt_hub.get(
        f"{V}/MultiDatastreams({multi})/Observations", params={"$orderby": "phenomenonTime"}
    ).json()["value"]
    assert [o["result"] for o in values] == [[19.5, 61, "N"], [20.0, 59, "NE"]]


def test_bad_rows_are_logged_and_counted_while_the_good_ones_are_stored(
    mqtt_hub, mqtt_client, caplog
):
    """As over HTTP, where the answer says "error" in their place."""
    datastream = _fresh_datastream(mqtt_hub)
    rows = [
        ["2024-06-01T12:00:00Z", 1.0],
        ["2024-06-01T12:01:00Z", "warm"],  # not a measurement
        ["not a time", 3.0],
        ["2024-06-01T12:03:00Z", 4.0],
    ]
    body = [_group(datastream, rows)]
    over_http = mqtt_hub.post(f"{V}/CreateObservations", body).json()
    assert over_http[1:3] == ["error", "error"]
    caplog.set_level(logging.WARNING, logger="cityhub.mqtt")
    mqtt_client.publish(TOPIC, body)
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 2, "the good rows")
    stored = [result for _, result in _results(mqtt_hub, datastream)]
    assert stored == [1.0, 1.0, 4.0, 4.0]  # the HTTP request's and the message's
    assert mqtt_stats(mqtt_hub)["rows_rejected"] == 2
    logged = [r.getMessage() for r in caplog.records if "not stored" in r.getMessage()]
    assert len(logged) == 2
    assert "group 0, row 1" in logged[0]
    assert "observationType" in logged[0]
    assert "group 0, row 2" in logged[1]
    assert "phenomenonTime" in logged[1]


def test_a_message_naming_an_unknown_datastream_is_rejected_as_over_http(mqtt_hub, mqtt_client):
    datastream = _fresh_datastream(mqtt_hub)
    body = [_group(datastream, [["2024-06-01T12:00:00Z", 1.0]]), _group(987654, [[None, 2.0]])]
    over_http = mqtt_hub.post(f"{V}/CreateObservations", body)
    assert over_http.status_code == 400
    assert "Datastream(987654) does not exist" in over_http.json()["message"]
    mqtt_client.publish(TOPIC, body)
    mqtt_client.publish(TOPIC, [_group(datastream, [["2024-06-01T13:00:00Z", 5.0]])])
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 1, "the next message")
    assert _results(mqtt_hub, datastream) == [("2024-06-01T13:00:00Z", 5.0)]
    assert mqtt_stats(mqtt_hub)["rejected"] == 1


def test_malformed_messages_are_rejected_and_the_next_one_is_stored(mqtt_hub, mqtt_client):
    datastream = _fresh_datastream(mqtt_hub)
    bad = [
        b"[{not json",
        {"Datastream": {"@iot.id": datastream}},  # an object, not an array of groups
        [42],  # a group that is no object
        [{"Datastream": {"@iot.id": datastream}, "dataArray": [[1.0]]}],  # no components
        [_group(datastream, [["2024-06-01T12:00:00Z"]])],  # a row too short
        [{"Datastream": {"@iot.id": "x"}, "components": ["result"], "dataArray": [[1]]}],
    ]
    for payload in bad:
        mqtt_client.publish(TOPIC, payload)
    mqtt_client.publish(TOPIC, [_group(datastream, [["2024-06-01T12:00:00Z", 9.5]])])
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 1, "the good message")
    stats = mqtt_stats(mqtt_hub)
    assert (stats["received"], stats["rejected"]) == (len(bad) + 1, len(bad))
    assert _results(mqtt_hub, datastream) == [("2024-06-01T12:00:00Z", 9.5)]


def test_a_datastream_of_a_restricted_dataset_is_not_written_over_mqtt(mqtt_hub, mqtt_client):
    """A topic carries no token to the hub: MQTT writes as anyone reads, so a restricted
    Datastream does not exist for it, as for a publisher token over HTTP."""

    def restricted(connection):
        datasets.create_dataset(
            connection, slug="intern", title="Intern", licence="cc-zero", visibility="restricted"
        )
        return create_token(connection, "publisher", "publisher")

    publisher = mqtt_hub.store.write_blocking(restricted)
    secret = create_thing(
        mqtt_hub, datastreams=[datastream_body("co2")], properties={"dataset": "intern"}
    ).datastreams[0]
    public = _fresh_datastream(mqtt_hub)
    body = [_group(secret, [["2024-06-01T12:00:00Z", 600]])]
    headers = {"Authorization": f"Bearer {publisher}"}
    over_http = mqtt_hub.post(f"{V}/CreateObservations", body, auth=False, headers=headers)
    assert over_http.status_code == 400
    assert f"Datastream({secret}) does not exist" in over_http.json()["message"]
    mqtt_client.publish(TOPIC, body)
    mqtt_client.publish(f"v1.1/Datastreams({secret})/Observations", {"result": 601})
    single = {"result": 602, "Datastream": {"@iot.id": secret}}
    mqtt_client.publish("v1.1/Observations", single)
    mqtt_client.publish(TOPIC, [_group(public, [["2024-06-01T12:00:00Z", 1.0]])])
    wait_for(lambda: mqtt_stats(mqtt_hub)["created"] == 1, "the public create")
    assert mqtt_stats(mqtt_hub)["rejected"] == 3
    assert _stored_in(mqtt_hub, secret) == 0


def test_the_embedded_broker_takes_bulk_creates_only_from_writers(backend_settings):
    hub = start_hub(mqtt_settings(backend_settings, "embedded"))
    reader_token = hub.store.write_blocking(lambda c: create_token(c, "reader", "r"))
    clients = [client_for(hub, password) for password in (None, reader_token, "wrong")]
    writer = client_for(hub)
    try:
        datastream = _fresh_datastream(hub)
        body = [_group(datastream, [["2024-06-01T12:00:00Z", 1.0]])]
        for client in clients:
            client.publish(TOPIC, body)
        wait_for(lambda: mqtt_stats(hub)["refused"] == 3, "three refusals")
        writer.publish(TOPIC, body)
        wait_for(lambda: mqtt_stats(hub)["created"] == 1, "the writer's create")
        assert mqtt_stats(hub)["received"] == 1
        assert _stored_in(hub, datastream) == 1
    finally:
        for client in (*clients, writer):
            client.close()
        hub.close()


@pytest.mark.parametrize("broker", ["embedded"])
def test_a_message_the_database_could_not_take_is_not_acknowledged(mqtt_hub):
    """The writer answers ServiceUnavailable when it cannot reach the database: the message
    stays unacknowledged, so the broker delivers it again."""
    consumer = mqtt_hub.app.state.mqtt.consumer
    acked: list[Any] = []
    consumer.ack = acked.append
    unavailable: Future[Any] = Future()
    unavailable.set_exception(ServiceUnavailable("the database is not available"))
    consumer._committed(_Message(TOPIC), unavailable, lambda result: None)
    assert acked == []
    assert mqtt_stats(mqtt_hub)["unstored"] == 1


class _Message:
    """What the consumer reads of a paho message after the commit."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.qos = 1
