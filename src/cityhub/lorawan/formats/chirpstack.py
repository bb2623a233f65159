"""ChirpStack v4: integration events over MQTT or the HTTP integration, JSON or protobuf.

The event type is not in the body: it is the last level of the MQTT topic
``application/{application_id}/device/{dev_eui}/event/{type}`` or the HTTP integration's
``?event=`` parameter. A body that does not start like a JSON object is the binary protobuf
encoding; it is decoded into the JSON shape and read by the same code.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from cityhub.lorawan.formats import chirpstack_proto
from cityhub.lorawan.formats._reader import Node, Topic, best_radio, load_object
from cityhub.lorawan.uplink import Event, EventKind, FormatError, Message, Network, Radio, Uplink

NETWORK: Network = "chirpstack"
TOPICS = ["application/+/device/+/event/+"]
EVENT_KINDS: dict[str, EventKind] = {
    "join": "join",
    "status": "status",
    "ack": "ack",
    "txack": "txack",
    "log": "log",
    "location": "location",
    "integration": "other",
}
_TOPIC = re.compile(r"(?:.*/)?application/([^/+#]+)/device/([^/+#]+)/event/([^/+#]+)")


def parse_topic(topic: str) -> Topic:
    """``application/{application_id}/device/{dev_eui}/event/{type}`` (with any prefix)."""
    match = _TOPIC.fullmatch(topic)
    if match is None:
        raise FormatError(f"not a ChirpStack v4 device event topic: {topic[:100]!r}", "topic")
    return Topic(match[1], match[2], match[3])


def is_json(body: bytes) -> bool:
    """JSON bodies start with ``{`` (or ``[``) after white space; protobuf ones never do."""
    return body.lstrip(b" \t\r\n")[:1] in (b"{", b"[")


def parse(body: bytes, topic: str | None = None, event: str | None = None) -> Message:
    """One ChirpStack v4 event, JSON or protobuf, as an Uplink or an Event."""
    parsed = parse_topic(topic) if topic is not None else None
    kind = _event_type(parsed, event)
    if is_json(body):
        data = load_object(body)
    elif kind is None:
        raise FormatError("a protobuf event needs its type from the topic or ?event=", "event")
    else:
        data = chirpstack_proto.decode(kind, body)
    if kind is None:
        raise FormatError("unknown event type: give the MQTT topic or ?event=", "event")
    return _message(Node(data), kind, parsed)


def _event_type(parsed: Topic | None, event: str | None) -> str | None:
    if parsed is not None and event is not None and parsed.event != event:
        raise FormatError(f"topic says {parsed.event!r}, event says {event[:40]!r}", "event")
    kind = event if event is not None else parsed.event if parsed is not None else None
    if kind is not None and kind != "up" and kind not in EVENT_KINDS:
        raise FormatError(f"unknown ChirpStack event type {kind[:40]!r}", "event")
    return kind


def _message(root: Node, kind: str, topic: Topic | None) -> Message:
    info = root.require("deviceInfo")
    dev_eui = info.require_eui("devEui")
    _check_topic(topic, info, dev_eui)
    received_at = _received_at(root)
    if kind == "up":
        return _uplink(root, info, dev_eui, received_at)
    details: dict[str, Any] = {"event": kind}
    details.update(_DETAILS[kind](root))
    return Event(NETWORK, EVENT_KINDS[kind], dev_eui, received_at, details)


def _check_topic(topic: Topic | None, info: Node, dev_eui: str) -> None:
    """A topic naming another device or application than the body is refused."""
    if topic is None:
        return
    if topic.device.upper() != dev_eui:
        raise FormatError(f"DevEUI {topic.device!r} in the topic, {dev_eui} in the body", "topic")
    application = info.text("applicationId")
    if application is not None and application != topic.application:
        raise FormatError(
            f"application {topic.application!r} in the topic, {application!r} in the body", "topic"
        )


def _received_at(root: Node) -> datetime:
    """``time``, else the first gateway's network-server or gateway time."""
    received_at = root.time("time")
    for gateway in root.children("rxInfo"):
        received_at = received_at or gateway.time("nsTime") or gateway.time("gwTime")
    if received_at is None:
        raise FormatError("missing", "time")
    return received_at


def _uplink(root: Node, info: Node, dev_eui: str, received_at: datetime) -> Uplink:
    return Uplink(
        network=NETWORK,
        dev_eui=dev_eui,
        received_at=received_at,
        payload=root.base64("data"),
        f_port=root.integer("fPort", high=255),
        f_cnt=root.integer("fCnt", required=True),
        session=root.text("devAddr"),
        dedup_id=root.text("deduplicationId"),
        device_name=info.text("deviceName"),
        application=info.text("applicationId"),
        decoded=root.mapping("object"),
        radio=_radio(root),
    )


def _radio(root: Node) -> Radio:
    gateways = [
        (gateway.number("rssi"), gateway.number("snr")) for gateway in root.children("rxInfo")
    ]
    tx = root.child("txInfo")
    if tx is None:
        return best_radio(gateways, None, None)
    modulation = tx.child("modulation")
    lora = modulation.child("lora") if modulation is not None else None
    spreading_factor = lora.integer("spreadingFactor", high=255) if lora is not None else None
    return best_radio(gateways, spreading_factor, tx.integer("frequency"))


def _join(root: Node) -> dict[str, Any]:
    return {"dev_addr": root.text("devAddr")}


def status_details(root: Node) -> dict[str, Any]:
    """A device-status answer: link margin (dB) and battery level (%), as in v3."""
    unavailable = root.boolean("batteryLevelUnavailable")
    return {
        "margin": root.integer("margin", low=-(2**31), high=2**31 - 1),
        "battery_level": None if unavailable else root.number("batteryLevel"),
        "battery_level_unavailable": unavailable,
        "external_power_source": root.boolean("externalPowerSource"),
    }


def _ack(root: Node) -> dict[str, Any]:
    return {
        "acknowledged": root.boolean("acknowledged"),
        "f_cnt_down": root.integer("fCntDown"),
        "queue_item_id": root.text("queueItemId"),
    }


def _txack(root: Node) -> dict[str, Any]:
    return {
        "f_cnt_down": root.integer("fCntDown"),
        "queue_item_id": root.text("queueItemId"),
        "gateway_id": root.text("gatewayId"),
    }


def _log(root: Node) -> dict[str, Any]:
    return {
        "level": _enum(root, "level", "INFO"),
        "code": _enum(root, "code", "UNKNOWN"),
        "description": root.text("description"),
        "context": root.mapping("context") or {},
    }


def _enum(root: Node, key: str, default: str) -> str:
    """An enum by name; a number a newer ChirpStack added is kept as its number's text."""
    value = root.data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return root.text(key) or default


def location_details(root: Node) -> dict[str, Any]:
    """A resolved location (``common.Location``), as in v3."""
    location = root.require("location")
    return {
        "latitude": location.number("latitude") or 0.0,
        "longitude": location.number("longitude") or 0.0,
        "altitude": location.number("altitude"),
        "accuracy": location.number("accuracy"),
        "source": location.text("source"),
    }


def _integration(root: Node) -> dict[str, Any]:
    return {
        "integration_name": root.text("integrationName"),
        "event_type": root.text("eventType"),
        "object": root.mapping("object"),
    }


_DETAILS = {
    "join": _join,
    "status": status_details,
    "ack": _ack,
    "txack": _txack,
    "log": _log,
    "location": location_details,
    "integration": _integration,
}
