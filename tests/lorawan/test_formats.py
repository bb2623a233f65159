"""Network servers' messages: every member mapped, every malformed one a FormatError."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from cityhub.lorawan.formats import Topic, default_topics, parse, parse_topic, tts
from cityhub.lorawan.formats import chirpstack_proto as proto
from cityhub.lorawan.formats._reader import parse_time
from cityhub.lorawan.uplink import Event, FormatError, Radio, Uplink

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lorawan"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fails(network: Any, data: object, where: str, **kwargs: Any) -> FormatError:
    raw = data if isinstance(data, bytes) else body(data)
    with pytest.raises(FormatError) as info:
        parse(network, raw, **kwargs)
    assert info.value.where == where, info.value
    return info.value


TTS_TOPIC = "v3/solingen-air@ttn/devices/air-quality-07/up"
CS_EUI = "A8404185B1C2D3E4"
CS_APP = "0c3b8b9e-7c4b-4d61-9f0a-3a5d2b1e6f70"
CS_TOPIC = f"application/{CS_APP}/device/a8404185b1c2d3e4/event/"
CS3_TOPIC = "application/7/device/0004a30b001c7e5d/"


# The Things Stack v3


def test_tts_uplink_every_member():
    message = parse("ttn", body(fixture("tts_uplink_mqtt")), topic=TTS_TOPIC)
    assert message == Uplink(
        network="ttn",
        dev_eui="70B3D57ED0061A2C",
        received_at=datetime(2026, 11, 14, 9, 31, 7, 279164, tzinfo=UTC),
        payload=bytes.fromhex("0109d6021b"),
        f_port=2,
        f_cnt=4711,
        session="AYsT6nJq0zL2mE4vV8c1Pg==",
        dedup_id="ns:uplink:01HX7Q2M3M0C4D6E8F1G3H5J7K",
        device_name="air-quality-07",
        application="solingen-air",
        decoded={"temperature": 25.18, "humidity": 27, "battery": 3.61},
        radio=Radio(rssi=-97, snr=7.25, spreading_factor=9, gateway_count=2, frequency=867500000),
        simulated=False,
    )


def test_tts_webhook_uplink_with_frame_counter_zero_omitted():
    message = parse("ttn", body(fixture("tts_uplink_webhook_fcnt0")), event="uplink_message")
    assert isinstance(message, Uplink)
    assert message.f_cnt == 0
    assert message.dev_eui == "70B3D57ED0061B90"
    # no uplink_message.received_at: the Application Server's time
    assert message.received_at == datetime(2026, 11, 14, 10, 2, 41, 500000, tzinfo=UTC)
    assert message.radio == Radio(-88, 9.5, 7, 1, 868100000)  # channel_rssi stands in
    assert message.dedup_id == "as:up:01HX8A0B1C2D3E4F5G6H7J8K9M"
    assert message.decoded is None


def test_tts_simulated_uplink():
    message = parse("ttn", body(fixture("tts_uplink_simulated")), event="up")
    assert isinstance(message, Uplink)
    assert message.simulated
    assert (message.f_cnt, message.f_port, message.payload) == (0, 1, b"\xca\xfe")
    assert message.session == "260B4F1E"  # no session key id: the device address
    assert message.received_at == datetime(2026, 11, 14, 11, 0, tzinfo=UTC)
    assert message.radio == Radio(spreading_factor=7)


@pytest.mark.parametrize(
    ("name", "topic", "kind", "when", "details"),
    [
        (
            "tts_join_accept",
            "join",
            "join",
            "2026-11-14T08:59:59.700000",
            {"session": "AYsT6nJq0zL2mE4vV8c1Pg==", "dev_addr": "260B4F1E"},
        ),
        (
            "tts_downlink_ack",
            "down/ack",
            "ack",
            "2026-11-14T09:45:12.1",
            {
                "f_port": 3,
                "f_cnt_down": 12,
                "confirmed": True,
                "session": "AYsT6nJq0zL2mE4vV8c1Pg==",
                "acknowledged": True,
            },
        ),
        (
            "tts_downlink_failed",
            "down/failed",
            "log",
            "2026-11-14T09:50:00",
            {
                "f_port": 3,
                "f_cnt_down": 0,
                "confirmed": False,
                "session": None,
                "level": "ERROR",
                "error": {
                    "namespace": "pkg/networkserver",
                    "name": "application_downlink_too_long",
                    "code": 3,
                },
            },
        ),
        (
            "tts_location_solved",
            "location/solved",
            "location",
            "2026-11-14T09:31:09.02",
            {
                "service": "lora-cloud-geolocation-v3",
                "latitude": 51.16532,
                "longitude": 7.06781,
                "altitude": 220.0,
                "accuracy": 180.0,
                "source": "SOURCE_LORA_RSSI_GEOLOCATION",
            },
        ),
        (
            "tts_service_data",
            "service/data",
            "other",
            "2026-11-14T09:31:08.4",
            {"service": "lora-cloud-device-management-v1-uplink", "data": {"stream_records": []}},
        ),
    ],
)
def test_tts_events(name, topic, kind, when, details):
    data = fixture(name)
    message = parse("ttn", body(data), topic=f"v3/solingen-air/devices/air-quality-07/{topic}")
    member = next(key for key in data if key.startswith(("join", "downlink", "location", "serv")))
    assert message == Event("ttn", kind, "70B3D57ED0061A2C", at(when), {"event": member, **details})


def test_tts_downlink_nack_is_an_unacknowledged_ack():
    data = fixture("tts_downlink_ack")
    data["downlink_nack"] = data.pop("downlink_ack")
    message = parse("ttn", body(data), topic="v3/solingen-air/devices/air-quality-07/down/nack")
    assert isinstance(message, Event)
    assert (message.kind, message.details["acknowledged"]) == ("ack", False)


def test_tts_topic_must_name_the_message_and_its_device():
    data = body(fixture("tts_uplink_mqtt"))
    fails("ttn", data, "topic", topic="v3/solingen-air/devices/air-quality-08/up")
    fails("ttn", data, "topic", topic="v3/solingen-noise@ttn/devices/air-quality-07/up")
    fails("ttn", data, "topic", topic="v3/solingen-air/devices/air-quality-07/join")
    fails("ttn", data, "topic", topic="v3/solingen-air/devices/air-quality-07/down/push")
    fails("ttn", data, "topic", topic="application/1/device/70b3d57ed0061a2c/event/up")
    fails("ttn", data, "event", event="join_accept")


def test_tts_topics():
    assert parse_topic("ttn", "v3/solingen-air@ttn/devices/air-quality-07/up") == Topic(
        "solingen-air", "air-quality-07", "up", "ttn"
    )
    assert parse_topic("ttn", "v3/app1/devices/dev1/location/solved") == Topic(
        "app1", "dev1", "location/solved"
    )
    assert default_topics("ttn") == [
        "v3/+/devices/+/up",
        "v3/+/devices/+/join",
        "v3/+/devices/+/down/sent",
        "v3/+/devices/+/down/ack",
        "v3/+/devices/+/down/nack",
        "v3/+/devices/+/down/failed",
        "v3/+/devices/+/location/solved",
        "v3/+/devices/+/service/data",
    ]
    for topic in default_topics("ttn"):
        concrete = topic.replace("+", "x", 2)
        assert parse_topic("ttn", concrete).event == topic.split("/", 4)[4]


# ChirpStack v4


def test_chirpstack_uplink_every_member():
    message = parse("chirpstack", body(fixture("chirpstack_up")), topic=CS_TOPIC + "up")
    assert message == Uplink(
        network="chirpstack",
        dev_eui=CS_EUI,
        received_at=datetime(2026, 11, 14, 9, 31, 7, 482913, tzinfo=UTC),
        payload=bytes.fromhex("02413a1c0f"),
        f_port=3,
        f_cnt=1288,
        session="01f2a3b4",
        dedup_id="5f0e8f62-3c8a-4e21-9b3c-7d61f0a4c2e9",
        device_name="noise-graf-wilhelm-platz",
        application=CS_APP,
        decoded={"laeq": 58.5, "lamax": 71.25, "lamin": 44},
        radio=Radio(rssi=-91, snr=8.5, spreading_factor=8, gateway_count=2, frequency=867100000),
    )


def test_chirpstack_uplink_time_falls_back_to_the_first_gateway():
    data = fixture("chirpstack_up")
    del data["time"]
    message = parse("chirpstack", body(data), event="up")
    assert message.received_at == datetime(2026, 11, 14, 9, 31, 7, 471002, tzinfo=UTC)
    del data["rxInfo"][0]["nsTime"]
    message = parse("chirpstack", body(data), event="up")
    assert message.received_at == datetime(2026, 11, 14, 9, 31, 7, 250000, tzinfo=UTC)
    data["rxInfo"] = []
    fails("chirpstack", data, "time", event="up")


CS_EVENTS = [
    ("join", "join", {"dev_addr": "01f2a3b4"}),
    (
        "status",
        "status",
        {
            "margin": 7,
            "battery_level": 87.5,
            "battery_level_unavailable": False,
            "external_power_source": False,
        },
    ),
    (
        "ack",
        "ack",
        {
            "acknowledged": True,
            "f_cnt_down": 17,
            "queue_item_id": "3e2d1c0b-a987-4654-b321-0fedcba98765",
        },
    ),
    (
        "txack",
        "txack",
        {
            "f_cnt_down": 17,
            "queue_item_id": "3e2d1c0b-a987-4654-b321-0fedcba98765",
            "gateway_id": "0016c001f1500a02",
        },
    ),
    (
        "log",
        "log",
        {
            "level": "ERROR",
            "code": "UPLINK_CODEC",
            "description": "ReferenceError: lamax is not defined",
            "context": {"deduplication_id": "5f0e8f62-3c8a-4e21-9b3c-7d61f0a4c2e9"},
        },
    ),
    (
        "location",
        "location",
        {
            "latitude": 51.16498,
            "longitude": 7.06702,
            "altitude": 0.0,
            "accuracy": 35.5,
            "source": "GEO_RESOLVER_TDOA",
        },
    ),
    (
        "integration",
        "other",
        {
            "integration_name": "loracloud",
            "event_type": "modem_UplinkResponse",
            "object": {"fports": {"dmport": 199}},
        },
    ),
]


@pytest.mark.parametrize(("event", "kind", "details"), CS_EVENTS)
def test_chirpstack_events(event, kind, details):
    data = fixture(f"chirpstack_{event}")
    message = parse("chirpstack", body(data), topic=CS_TOPIC + event)
    assert message == Event(
        "chirpstack", kind, CS_EUI, parse_time(data["time"], ""), {"event": event, **details}
    )
    assert parse("chirpstack", body(data), event=event) == message  # the HTTP integration


def test_chirpstack_status_without_battery_level():
    data = fixture("chirpstack_status")
    data.update(batteryLevelUnavailable=True, batteryLevel=0, externalPowerSource=True)
    message = parse("chirpstack", body(data), event="status")
    assert message.details["battery_level"] is None
    assert message.details["external_power_source"]


def to_protobuf(event: str, data: dict[str, Any]) -> bytes:
    message = json_format.ParseDict(data, proto.message_class(event)(), ignore_unknown_fields=True)
    return message.SerializeToString()


@pytest.mark.parametrize("event", ["up", *(event for event, _, _ in CS_EVENTS)])
def test_chirpstack_protobuf_reads_as_its_json(event):
    data = fixture(f"chirpstack_{event}")
    binary = to_protobuf(event, data)
    assert not binary.lstrip().startswith(b"{")
    expected = parse("chirpstack", body(data), topic=CS_TOPIC + event)
    assert parse("chirpstack", binary, topic=CS_TOPIC + event) == expected
    assert parse("chirpstack", binary, event=event) == expected


def test_chirpstack_protobuf_frame_counter_zero():
    data = fixture("chirpstack_up")
    data["fCnt"] = 0
    message = parse("chirpstack", to_protobuf("up", data), event="up")
    assert message.f_cnt == 0


def test_chirpstack_protobuf_needs_its_event_type():
    binary = to_protobuf("up", fixture("chirpstack_up"))
    fails("chirpstack", binary, "event")
    fails("chirpstack", binary, "event", event="uplink")
    fails("chirpstack", b"\x0a\x05abc", "", event="up")  # truncated


def test_chirpstack_protobuf_values_json_cannot_hold():
    up = proto.message_class("up")()
    up.ParseFromString(to_protobuf("up", fixture("chirpstack_up")))
    up.object.fields["laeq"].number_value = float("nan")
    fails("chirpstack", up.SerializeToString(), "", event="up")
    up = proto.message_class("up")()
    up.ParseFromString(to_protobuf("up", fixture("chirpstack_up")))
    up.time.seconds = 2**40
    fails("chirpstack", up.SerializeToString(), "", event="up")


def test_chirpstack_topic_must_name_the_device_and_application():
    data = body(fixture("chirpstack_up"))
    eui_upper = f"application/{CS_APP}/device/{CS_EUI}/event/up"
    assert parse("chirpstack", data, topic=eui_upper).dev_eui == CS_EUI
    fails("chirpstack", data, "topic", topic=CS_TOPIC.replace("e4/", "e5/") + "up")
    fails("chirpstack", data, "topic", topic=CS_TOPIC.replace("0c3b", "0c3c") + "up")
    fails("chirpstack", data, "topic", topic="v3/app/devices/dev/up")
    fails("chirpstack", data, "event", topic=CS_TOPIC + "up", event="join")
    fails("chirpstack", data, "event", topic=CS_TOPIC + "downlink")
    fails("chirpstack", data, "event")  # nothing says which event it is


def test_chirpstack_topics():
    assert default_topics("chirpstack") == ["application/+/device/+/event/+"]
    assert parse_topic("chirpstack", "eu/application/a/device/0011223344556677/event/up") == (
        Topic("a", "0011223344556677", "up")
    )


# ChirpStack v3


CS3_EUI = "0004A30B001C7E5D"


def test_chirpstack3_rx_with_base64_identifiers():
    message = parse("chirpstack3", body(fixture("chirpstack3_rx")), topic=CS3_TOPIC + "rx")
    assert message == Uplink(
        network="chirpstack3",
        dev_eui=CS3_EUI,
        received_at=datetime(2026, 11, 14, 7, 12, 33, 918273, tzinfo=UTC),  # first gateway
        payload=b"\x3c\x01",
        f_port=5,
        f_cnt=310,
        session="00A1B2C3",
        device_name="bin-fronhof-2",
        application="7",
        decoded=None,  # objectJSON ""
        radio=Radio(rssi=-101, snr=2.75, spreading_factor=10, gateway_count=2, frequency=868300000),
    )


def test_chirpstack3_event_up_with_object_json():
    message = parse("chirpstack3", body(fixture("chirpstack3_up")), topic=CS3_TOPIC + "event/up")
    assert isinstance(message, Uplink)
    assert message.decoded == {"fill_level": 61, "temperature": 8.5}
    assert message.received_at == datetime(2026, 11, 14, 7, 22, 34, 4511, tzinfo=UTC)
    assert (message.f_cnt, message.dev_eui, message.session) == (311, CS3_EUI, "00A1B2C3")


def test_chirpstack3_legacy_json_with_hex_identifiers_and_object():
    data = fixture("chirpstack3_up")
    data.update(devEUI=CS3_EUI.lower(), devAddr="00a1b2c3", applicationID=7)
    data["object"] = json.loads(data.pop("objectJSON"))
    message = parse("chirpstack3", body(data), event="up")
    expected = parse("chirpstack3", body(fixture("chirpstack3_up")), event="up")
    assert message == expected


def test_chirpstack3_without_any_time_is_received_now():
    data = fixture("chirpstack3_rx")
    for gateway in data["rxInfo"]:
        gateway["time"] = None
    before = datetime.now(UTC)
    message = parse("chirpstack3", body(data), event="up")
    assert before <= message.received_at <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("event", "kind", "details"),
    [
        (
            "status",
            "status",
            {
                "margin": 12,
                "battery_level": 42.5,
                "battery_level_unavailable": False,
                "external_power_source": False,
            },
        ),
        ("join", "join", {"dev_addr": "00A1B2C3"}),
        ("ack", "ack", {"acknowledged": False, "f_cnt_down": 9}),
        (
            "error",
            "log",
            {
                "level": "ERROR",
                "code": "UPLINK_CODEC",
                "description": "TypeError: cannot read property of undefined",
                "f_cnt_down": 311,
            },
        ),
    ],
)
def test_chirpstack3_events(event, kind, details):
    data = fixture(f"chirpstack3_{event}")
    message = parse("chirpstack3", body(data), topic=CS3_TOPIC + f"event/{event}")
    expected_time = parse_time(data["publishedAt"], "")
    assert message == Event(
        "chirpstack3", kind, CS3_EUI, expected_time, {"event": event, **details}
    )
    assert parse("chirpstack3", body(data), topic=CS3_TOPIC + event) == message  # older topics


def test_chirpstack3_topics():
    assert default_topics("chirpstack3") == [
        "application/+/device/+/rx",
        "application/+/device/+/event/+",
    ]
    assert parse_topic("chirpstack3", "application/7/device/0004a30b001c7e5d/rx").event == "up"
    data = body(fixture("chirpstack3_up"))
    fails("chirpstack3", data, "topic", topic="application/7/device/0004a30b001c7e5e/rx")
    fails("chirpstack3", data, "topic", topic="application/8/device/0004a30b001c7e5d/rx")
    fails("chirpstack3", data, "topic", topic="application/7/device/0004a30b001c7e5d/event/x")


# Malformed messages name what is wrong


def _set(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    data = copy.deepcopy(data)
    keys: list[Any] = [int(key) if key.isdigit() else key for key in path.split(".")]
    *parents, last = keys
    node: Any = data
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()
MALFORMED = [
    ("ttn", "tts_uplink_mqtt", "end_device_ids", _DELETE, "end_device_ids"),
    ("ttn", "tts_uplink_mqtt", "end_device_ids", "70B3D57ED0061A2C", "end_device_ids"),
    ("ttn", "tts_uplink_mqtt", "end_device_ids.dev_eui", _DELETE, "end_device_ids.dev_eui"),
    (
        "ttn",
        "tts_uplink_mqtt",
        "end_device_ids.dev_eui",
        "70B3D57ED0061A2",
        "end_device_ids.dev_eui",
    ),
    (
        "ttn",
        "tts_uplink_mqtt",
        "end_device_ids.dev_eui",
        "70B3D57ED0061A2G",
        "end_device_ids.dev_eui",
    ),
    ("ttn", "tts_uplink_mqtt", "uplink_message.f_cnt", 1.5, "uplink_message.f_cnt"),
    ("ttn", "tts_uplink_mqtt", "uplink_message.f_cnt", -1, "uplink_message.f_cnt"),
    ("ttn", "tts_uplink_mqtt", "uplink_message.f_cnt", True, "uplink_message.f_cnt"),
    ("ttn", "tts_uplink_mqtt", "uplink_message.f_port", 256, "uplink_message.f_port"),
    ("ttn", "tts_uplink_mqtt", "uplink_message.frm_payload", "AQ=", "uplink_message.frm_payload"),
    (
        "ttn",
        "tts_uplink_mqtt",
        "uplink_message.received_at",
        "yesterday",
        "uplink_message.received_at",
    ),
    (
        "ttn",
        "tts_uplink_mqtt",
        "uplink_message.received_at",
        "2026-11-14T09:31:07",
        "uplink_message.received_at",
    ),
    (
        "ttn",
        "tts_uplink_mqtt",
        "uplink_message.received_at",
        "2026-02-30T09:31:07Z",
        "uplink_message.received_at",
    ),
    (
        "ttn",
        "tts_uplink_mqtt",
        "uplink_message.decoded_payload",
        [1],
        "uplink_message.decoded_payload",
    ),
    ("ttn", "tts_uplink_mqtt", "uplink_message.rx_metadata", {}, "uplink_message.rx_metadata"),
    ("ttn", "tts_uplink_mqtt", "uplink_message.rx_metadata.1", 3, "uplink_message.rx_metadata[1]"),
    (
        "ttn",
        "tts_uplink_mqtt",
        "uplink_message.rx_metadata.1.rssi",
        "-90",
        "uplink_message.rx_metadata[1].rssi",
    ),
    (
        "ttn",
        "tts_uplink_mqtt",
        "uplink_message.settings.frequency",
        "868.1",
        "uplink_message.settings.frequency",
    ),
    ("ttn", "tts_uplink_webhook_fcnt0", "received_at", _DELETE, "received_at"),
    ("ttn", "tts_join_accept", "join_accept", "yes", "join_accept"),
    ("chirpstack", "chirpstack_up", "deviceInfo", _DELETE, "deviceInfo"),
    ("chirpstack", "chirpstack_up", "deviceInfo.devEui", "a8404185b1c2d3", "deviceInfo.devEui"),
    ("chirpstack", "chirpstack_up", "deviceInfo.devEui", 1234, "deviceInfo.devEui"),
    ("chirpstack", "chirpstack_up", "fCnt", _DELETE, "fCnt"),
    ("chirpstack", "chirpstack_up", "fCnt", 2**32, "fCnt"),
    ("chirpstack", "chirpstack_up", "data", "not base64!", "data"),
    ("chirpstack", "chirpstack_up", "time", "2026-11-14T25:00:00Z", "time"),
    ("chirpstack", "chirpstack_up", "object", "{}", "object"),
    ("chirpstack", "chirpstack_up", "rxInfo.0.snr", None, None),  # null is absent: parses
    ("chirpstack", "chirpstack_up", "txInfo.modulation.lora", [], "txInfo.modulation.lora"),
    ("chirpstack", "chirpstack_status", "margin", "7", None),  # protobuf JSON int as text
    ("chirpstack", "chirpstack_location", "location", _DELETE, "location"),
    ("chirpstack3", "chirpstack3_up", "devEUI", "AAECAwQFBg==", "devEUI"),
    ("chirpstack3", "chirpstack3_up", "devEUI", "AAECAwQFBgc", "devEUI"),
    ("chirpstack3", "chirpstack3_up", "devAddr", "AAECAwQ=", "devAddr"),
    ("chirpstack3", "chirpstack3_up", "objectJSON", "{temperature: 8}", "objectJSON"),
    ("chirpstack3", "chirpstack3_up", "objectJSON", "[1, 2]", "objectJSON"),
    ("chirpstack3", "chirpstack3_up", "applicationID", "seven", "applicationID"),
    ("chirpstack3", "chirpstack3_up", "applicationID", "--7", "applicationID"),
    ("chirpstack3", "chirpstack3_up", "applicationID", "\u0667", "applicationID"),
    ("chirpstack3", "chirpstack3_up", "publishedAt", 1731569000, "publishedAt"),
    (
        "chirpstack3",
        "chirpstack3_rx",
        "rxInfo.0.time",
        "2026-11-14T07:12:33+24:00",
        "rxInfo[0].time",
    ),
]


@pytest.mark.parametrize(("network", "name", "path", "value", "where"), MALFORMED)
def test_malformed_members_are_named(network, name, path, value, where):
    data = _set(fixture(name), path, value)
    event = {"ttn": None, "chirpstack": name.split("_")[1], "chirpstack3": "up"}
    kwargs = {"event": event[network]} if event[network] else {}
    if where is None:
        parse(network, body(data), **kwargs)
    else:
        fails(network, data, where, **kwargs)


@pytest.mark.parametrize("network", ["ttn", "chirpstack", "chirpstack3"])
@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"up"', b"{", b"\xff\xfe", b"{}"])
def test_not_a_message(network, raw):
    kwargs = {} if network == "ttn" else {"event": "up"}
    with pytest.raises(FormatError):
        parse(network, raw, **kwargs)


def test_unknown_network():
    with pytest.raises(FormatError):
        parse("lorix", b"{}")  # type: ignore[arg-type]
    with pytest.raises(FormatError):
        default_topics("lorix")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-14T09:31:07.123456789Z", datetime(2026, 11, 14, 9, 31, 7, 123456, tzinfo=UTC)),
        ("2026-11-14T09:31:07Z", datetime(2026, 11, 14, 9, 31, 7, tzinfo=UTC)),
        ("2026-11-14T10:31:07.5+01:00", datetime(2026, 11, 14, 9, 31, 7, 500000, tzinfo=UTC)),
        ("2026-11-14T00:31:07.000000001-09:00", datetime(2026, 11, 14, 9, 31, 7, tzinfo=UTC)),
    ],
)
def test_rfc3339_with_nanoseconds(text, expected):
    value = parse_time(text, "x")
    assert value == expected
    assert value.tzinfo is UTC


# Fuzzing: any bytes, any JSON shape → an Uplink, an Event or a FormatError, nothing else

ODD_VALUES: list[Any] = [
    None,
    "",
    "x",
    "AAAA",
    "70B3D57ED0061A2C",
    "2026-11-14T09:31:07Z",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+01:00",
    0,
    -1,
    2**63,
    1e308,
    -0.0,
    True,
    [],
    {},
    [None],
    {"a": [1]},
    "\u0000",
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _paths(value, (*prefix, index))
    return paths


def _mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        paths = [path for path in _paths(data) if path]
        if not paths:
            return copy.deepcopy(rng.choice(ODD_VALUES))
        *parents, last = rng.choice(paths)
        node = data
        for key in parents:
            node = node[key]
        if isinstance(node, dict) and rng.random() < 0.3:
            del node[last]
        else:
            node[last] = copy.deepcopy(rng.choice(ODD_VALUES))
    return data


def _check(network: Any, raw: bytes, **kwargs: Any) -> None:
    try:
        message = parse(network, raw, **kwargs)
    except FormatError:
        return
    assert len(message.dev_eui) == 16
    assert message.dev_eui == message.dev_eui.upper()
    assert message.received_at.utcoffset() is not None


FUZZ_FIXTURES = {
    "ttn": [path.stem for path in FIXTURES.glob("tts_*.json")],
    "chirpstack": [path.stem for path in FIXTURES.glob("chirpstack_*.json")],
    "chirpstack3": [path.stem for path in FIXTURES.glob("chirpstack3_*.json")],
}


@pytest.mark.parametrize("network", ["ttn", "chirpstack", "chirpstack3"])
def test_fuzz_json_shapes(network):
    rng = random.Random(f"{network}-shapes")
    for _ in range(600):
        name = rng.choice(FUZZ_FIXTURES[network])
        event = name.split("_", 1)[1] if network != "ttn" else None
        raw = json.dumps(_mutate(fixture(name), rng)).encode()
        _check(network, raw, event=event)
        _check(network, raw)


@pytest.mark.parametrize("network", ["ttn", "chirpstack", "chirpstack3"])
def test_fuzz_random_bytes(network):
    rng = random.Random(f"{network}-bytes")
    topics = {
        "ttn": "v3/app/devices/dev/up",
        "chirpstack": CS_TOPIC + "up",
        "chirpstack3": CS3_TOPIC + "rx",
    }
    for _ in range(1500):
        raw = rng.randbytes(rng.randint(0, 64))
        if rng.random() < 0.3:
            raw = b"{" + raw
        _check(network, raw)
        _check(network, raw, topic=topics[network])
        _check(network, raw, event=rng.choice(["up", "join", "status", "log", "x"]))
        _check(network, b"x", topic=raw.decode("latin-1"))


def test_fuzz_damaged_protobuf():
    rng = random.Random("protobuf")
    for event in ["up", *(event for event, _, _ in CS_EVENTS)]:
        binary = bytearray(to_protobuf(event, fixture(f"chirpstack_{event}")))
        for _ in range(300):
            damaged = bytearray(binary)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            cut = rng.randint(0, len(damaged)) if rng.random() < 0.3 else len(damaged)
            _check("chirpstack", bytes(damaged[:cut]), event=event)


# The Things Stack: the common uplink is read quickly, exactly as in full

_QUICK = [
    ("tts_uplink_mqtt", None, None),
    ("tts_uplink_simulated", None, None),
    ("tts_uplink_webhook_fcnt0", None, None),
    ("tts_uplink_mqtt", "uplink_message.settings.frequency", 867100000),
    ("tts_uplink_mqtt", "uplink_message.settings", _DELETE),
    ("tts_uplink_mqtt", "uplink_message.settings.data_rate", _DELETE),
    ("tts_uplink_mqtt", "uplink_message.rx_metadata", _DELETE),
    ("tts_uplink_mqtt", "uplink_message.rx_metadata.0.rssi", _DELETE),
    ("tts_uplink_mqtt", "uplink_message.rx_metadata.0.rssi", 0),
    ("tts_uplink_mqtt", "uplink_message.f_cnt", "12"),
    ("tts_uplink_mqtt", "uplink_message.f_port", None),
    ("tts_uplink_mqtt", "uplink_message.received_at", _DELETE),
    ("tts_uplink_mqtt", "uplink_message.received_at", "2026-11-14T10:31:07.5+01:00"),
    ("tts_uplink_mqtt", "uplink_message.session_key_id", _DELETE),
    ("tts_uplink_mqtt", "uplink_message.frm_payload", ""),
    ("tts_uplink_mqtt", "uplink_message.decoded_payload", _DELETE),
    ("tts_uplink_mqtt", "correlation_ids.1", "as:up:first"),
    ("tts_uplink_mqtt", "end_device_ids.dev_eui", "70b3D57ED0061A2C"),
    ("tts_uplink_mqtt", "end_device_ids.device_id", ""),
    ("tts_uplink_mqtt", "end_device_ids.application_ids", {}),
    ("tts_uplink_mqtt", "simulated", False),
]
_FULL_ONLY = [
    ("uplink_message.f_cnt", 1.5),
    ("uplink_message.f_port", 256),
    ("uplink_message.settings.frequency", "868.1"),
    ("uplink_message.rx_metadata.1.snr", True),
    ("uplink_message.received_at", "yesterday"),
    ("uplink_message.frm_payload", "AQ="),
    ("uplink_message.decoded_payload", [1]),
    ("correlation_ids", "ns:uplink:1"),
    ("end_device_ids.dev_eui", "70-B3-D5-7E-D0-06-1A-2C"),
    ("end_device_ids.device_id", "another-device"),
    ("end_device_ids.application_ids.application_id", "another-application"),
    ("simulated", "yes"),
]


@pytest.mark.parametrize(("name", "path", "value"), _QUICK)
def test_tts_common_uplinks_are_read_quickly_as_in_full(name, path, value):
    data = fixture(name) if path is None else _set(fixture(name), path, value)
    topic = TTS_TOPIC if name == "tts_uplink_mqtt" else None
    quick = tts.quick_uplink(data, topic)
    assert quick == tts.read(data, topic)
    assert parse("ttn", body(data), topic=topic) == quick


@pytest.mark.parametrize(("path", "value"), _FULL_ONLY)
def test_tts_unusual_uplinks_are_read_in_full(path, value):
    data = _set(fixture("tts_uplink_mqtt"), path, value)
    with pytest.raises((tts.Unusual, FormatError)):
        tts.quick_uplink(data, TTS_TOPIC)
    try:
        expected: Any = tts.read(data, TTS_TOPIC)
    except FormatError as exc:
        expected = exc.where
    try:
        found: Any = parse("ttn", body(data), topic=TTS_TOPIC)
    except FormatError as exc:
        found = exc.where
    assert found == expected
    # Separators in a DevEUI are allowed, only not quickly; everything else is malformed.
    assert isinstance(found, Uplink) == (path == "end_device_ids.dev_eui")


#: More odd values, at the edges of the quick reading's checks.
_EDGE_VALUES: list[Any] = [
    "0",
    "12",
    "-1",
    "4294967296",
    "AQ==",
    "AQ=",
    "70:B3:D5:7E:D0:06:1A:2C",
    "ns:uplink:7",
    1,
    255,
    256,
    2**32 - 1,
    2**32,
    10**12 + 1,
    0.0,
    float("nan"),
    False,
    ["as:up:1"],
    [{}],
    {"lora": {}},
    {"application_id": "solingen-air"},
]


def _outcome(read: Any, *args: Any) -> Any:
    try:
        return read(*args)
    except (tts.Unusual, FormatError) as exc:
        return type(exc)


@pytest.mark.parametrize("topic", [None, TTS_TOPIC])
def test_tts_quick_and_full_readers_agree_on_every_odd_member(topic):
    """Each member of an uplink deleted or replaced by each odd value: whatever the quick
    reading takes, the full one takes as the same Uplink; what the full one refuses, so does
    the quick (and ``parse``)."""
    original = fixture("tts_uplink_mqtt")
    present = [path for path in _paths(original) if path]
    absent = [("simulated",), ("join_accept",), ("uplink_message", "settings", "data_rate", "x")]
    taken = 0
    for path in present + absent:
        for value in [_DELETE, *ODD_VALUES, *_EDGE_VALUES]:
            if value is _DELETE and path in absent:
                continue
            data = _set(original, ".".join(str(key) for key in path), value)
            quick = _outcome(tts.quick_uplink, data, topic)
            full = _outcome(tts.read, data, topic)
            if isinstance(quick, Uplink):
                assert quick == full, (path, value)
                taken += 1
            assert _outcome(tts.parse, data, topic) == full, (path, value)
    assert taken > 100  # the quick reading took most of them
