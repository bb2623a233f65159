"""ChirpStack v3 (ChirpStack Application Server): integration events over MQTT or HTTP.

v3's JSON is the protobuf JSON mapping of its own ``integration.proto``: ``devEUI`` and
``devAddr`` are the base64 of their bytes, the decoded payload is ``objectJSON``, a JSON
*string*. The legacy "JSON (v3)" marshaler wrote them as hex and ``object``; both are read.
Uplinks arrive on ``…/rx`` (the older topic) or ``…/event/up``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from cityhub.lorawan.formats import chirpstack
from cityhub.lorawan.formats._reader import Node, Topic, best_radio, hex_id, load_object
from cityhub.lorawan.uplink import Event, EventKind, FormatError, Message, Network, Radio, Uplink

NETWORK: Network = "chirpstack3"
TOPICS = ["application/+/device/+/rx", "application/+/device/+/event/+"]
EVENT_KINDS: dict[str, EventKind] = {
    "join": "join",
    "status": "status",
    "ack": "ack",
    "txack": "txack",
    "error": "log",
    "location": "location",
    "integration": "other",
}
_TOPIC = re.compile(r"(?:.*/)?application/([^/+#]+)/device/([^/+#]+)/(?:event/)?([^/+#]+)")


def parse_topic(topic: str) -> Topic:
    """``application/{id}/device/{dev_eui}/event/{type}``, or the older ``…/rx`` (an
    uplink) and ``…/{type}``; the event is ``up`` for ``rx``."""
    match = _TOPIC.fullmatch(topic)
    event = "up" if match is not None and match[3] == "rx" else match[3] if match else ""
    if match is None or (event != "up" and event not in EVENT_KINDS):
        raise FormatError(f"not a ChirpStack v3 device event topic: {topic[:100]!r}", "topic")
    return Topic(match[1], match[2], event)


def parse(body: bytes, topic: str | None = None, event: str | None = None) -> Message:
    """One ChirpStack v3 JSON event as an Uplink or an Event."""
    parsed = parse_topic(topic) if topic is not None else None
    event = "up" if event == "rx" else event
    if parsed is not None and event is not None and parsed.event != event:
        raise FormatError(f"topic says {parsed.event!r}, event says {event[:40]!r}", "event")
    kind = event if event is not None else parsed.event if parsed is not None else None
    root = Node(load_object(body))
    if kind is None:
        raise FormatError("unknown event type: give the MQTT topic or ?event=", "event")
    if kind != "up" and kind not in EVENT_KINDS:
        raise FormatError(f"unknown ChirpStack v3 event type {kind[:40]!r}", "event")
    return _message(root, kind, parsed)


def _message(root: Node, kind: str, topic: Topic | None) -> Message:
    dev_eui = root.require_eui("devEUI", base64_too=True)
    _check_topic(topic, root, dev_eui)
    received_at = _received_at(root)
    if kind == "up":
        return _uplink(root, dev_eui, received_at)
    details: dict[str, Any] = {"event": kind}
    details.update(_DETAILS[kind](root))
    return Event(NETWORK, EVENT_KINDS[kind], dev_eui, received_at, details)


def _check_topic(topic: Topic | None, root: Node, dev_eui: str) -> None:
    if topic is None:
        return
    if topic.device.upper() != dev_eui:
        raise FormatError(f"DevEUI {topic.device!r} in the topic, {dev_eui} in the body", "topic")
    application = _application(root)
    if application is not None and application != topic.application:
        raise FormatError(
            f"application {topic.application!r} in the topic, {application!r} in the body", "topic"
        )


def _application(root: Node) -> str | None:
    """``applicationID`` is a uint64: a string in protobuf JSON, a number in older JSON."""
    value = root.integer("applicationID", high=2**64 - 1)
    return None if value is None else str(value)


def _received_at(root: Node) -> datetime:
    """``publishedAt``, else the first gateway time; v3 events may carry neither (gateways
    without GPS, older releases), and are then taken as received now."""
    received_at = root.time("publishedAt")
    for gateway in root.children("rxInfo"):
        received_at = received_at or gateway.time("time")
    return received_at or datetime.now(UTC)


def _uplink(root: Node, dev_eui: str, received_at: datetime) -> Uplink:
    return Uplink(
        network=NETWORK,
        dev_eui=dev_eui,
        received_at=received_at,
        payload=root.base64("data"),
        f_port=root.integer("fPort", high=255),
        f_cnt=root.integer("fCnt", required=True),
        session=_dev_addr(root),
        device_name=root.text("deviceName"),
        application=_application(root),
        decoded=_decoded(root),
        radio=_radio(root),
    )


def _dev_addr(root: Node) -> str | None:
    value = root.text("devAddr")
    return None if value is None else hex_id(value, 4, root.where("devAddr"), base64_too=True)


def _decoded(root: Node) -> dict[str, Any] | None:
    """``objectJSON`` (a string holding a JSON object), else the legacy ``object``."""
    text = root.text("objectJSON")
    if text is None:
        return root.mapping("object")
    return load_object(text, root.where("objectJSON"))


def _radio(root: Node) -> Radio:
    gateways = [
        (gateway.number("rssi"), gateway.number("loRaSNR")) for gateway in root.children("rxInfo")
    ]
    tx = root.child("txInfo")
    if tx is None:
        return best_radio(gateways, None, None)
    lora = tx.child("loRaModulationInfo")
    spreading_factor = lora.integer("spreadingFactor", high=255) if lora is not None else None
    return best_radio(gateways, spreading_factor, tx.integer("frequency"))


def _join(root: Node) -> dict[str, Any]:
    return {"dev_addr": _dev_addr(root)}


def _ack(root: Node) -> dict[str, Any]:
    return {"acknowledged": root.boolean("acknowledged"), "f_cnt_down": root.integer("fCnt")}


def _txack(root: Node) -> dict[str, Any]:
    gateway = root.text("gatewayID")
    return {
        "f_cnt_down": root.integer("fCnt"),
        "gateway_id": hex_id(gateway, 8, root.where("gatewayID"), base64_too=True)
        if gateway is not None
        else None,
    }


def _error(root: Node) -> dict[str, Any]:
    return {
        "level": "ERROR",
        "code": root.text("type") or "UNKNOWN",
        "description": root.text("error"),
        "f_cnt_down": root.integer("fCnt"),
    }


def _integration(root: Node) -> dict[str, Any]:
    return {
        "integration_name": root.text("integrationName"),
        "event_type": root.text("eventType"),
        "object": _decoded(root),
    }


_DETAILS = {
    "join": _join,
    "status": chirpstack.status_details,
    "ack": _ack,
    "txack": _txack,
    "error": _error,
    "location": chirpstack.location_details,
    "integration": _integration,
}
