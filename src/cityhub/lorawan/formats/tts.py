"""The Things Stack v3 (The Things Network, Cloud, Open Source): MQTT and webhook messages.

Both carry the same JSON ``ApplicationUp``: ``end_device_ids`` and one member naming the kind
(``uplink_message``, ``join_accept``, ``downlink_ack``…). The Things Stack omits every member
whose value is zero, empty or false: a missing ``f_cnt`` is frame counter 0.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from cityhub.lorawan.formats._reader import (
    DECIMAL,
    Node,
    Topic,
    best_radio,
    decode_base64,
    parse_time,
)
from cityhub.lorawan.uplink import Event, EventKind, FormatError, Message, Network, Radio, Uplink

NETWORK: Network = "ttn"

#: Topic suffix → the member of the message it carries.
MEMBERS: dict[str, str] = {
    "up": "uplink_message",
    "join": "join_accept",
    "down/queued": "downlink_queued",
    "down/sent": "downlink_sent",
    "down/ack": "downlink_ack",
    "down/nack": "downlink_nack",
    "down/failed": "downlink_failed",
    "location/solved": "location_solved",
    "service/data": "service_data",
}
#: Members other than ``uplink_message`` → the event kind they become.
EVENT_KINDS: dict[str, EventKind] = {
    "join_accept": "join",
    "downlink_ack": "ack",
    "downlink_nack": "ack",
    "downlink_sent": "txack",
    "downlink_failed": "log",
    "downlink_queued": "other",
    "downlink_queue_invalidated": "other",
    "location_solved": "location",
    "service_data": "other",
    "uplink_normalized": "other",
}
#: Every topic but ``down/queued`` (a downlink cityhub did not send is of no interest).
TOPICS = [f"v3/+/devices/+/{suffix}" for suffix in MEMBERS if suffix != "down/queued"]
_TOPIC = re.compile(
    r"v3/(?P<app>[^/@+#]+)(?:@(?P<tenant>[^/+#]+))?/devices/(?P<dev>[^/+#]+)/(?P<ev>.+)"
)


def parse_topic(topic: str) -> Topic:
    """``v3/{application}[@{tenant}]/devices/{device}/{event}`` with a known event suffix."""
    match = _TOPIC.fullmatch(topic)
    if match is None or match["ev"] not in MEMBERS:
        raise FormatError(f"not a The Things Stack v3 device topic: {topic[:100]!r}", "topic")
    return Topic(match["app"], match["dev"], match["ev"], match["tenant"])


def parse(data: dict[str, Any], topic: str | None = None, event: str | None = None) -> Message:
    """One ``ApplicationUp`` message (already JSON-decoded) as an Uplink or an Event."""
    if event is None or MEMBERS.get(event, event) == "uplink_message":
        try:
            return quick_uplink(data, topic)
        except (Unusual, FormatError):
            pass  # read again, in full, which names what is wrong
    return read(data, topic, event)


def read(data: dict[str, Any], topic: str | None = None, event: str | None = None) -> Message:
    """``parse`` without its shortcut for the common uplink: every member through ``Node``."""
    root = Node(data)
    member = _member(root)
    ids = root.require("end_device_ids")
    dev_eui = ids.require_eui("dev_eui")
    _check_source(ids, member, topic, event)
    if member == "uplink_message":
        return _uplink(root, ids, dev_eui)
    return _event(root, ids, dev_eui, member)


def _member(root: Node) -> str:
    for member in ("uplink_message", *EVENT_KINDS):
        if root.has(member):
            return member
    raise FormatError("no message member (uplink_message, join_accept, downlink_ack, …)")


def _check_source(ids: Node, member: str, topic: str | None, event: str | None) -> None:
    """The topic or webhook event, when given, must describe this very message."""
    if event is not None and event != member and MEMBERS.get(event) != member:
        raise FormatError(f"the message is a {member}, not a {event[:40]!r}", "event")
    if topic is None:
        return
    parsed = parse_topic(topic)
    if MEMBERS[parsed.event] != member:
        raise FormatError(f"a {member} on the {parsed.event!r} topic", "topic")
    device_id = ids.text("device_id")
    if device_id is not None and device_id != parsed.device:
        raise FormatError(
            f"device {parsed.device!r} in the topic, {device_id!r} in the body", "topic"
        )
    application = _application(ids)
    if application is not None and application != parsed.application:
        raise FormatError(
            f"application {parsed.application!r} in the topic, {application!r} in the body", "topic"
        )


def _uplink(root: Node, ids: Node, dev_eui: str) -> Uplink:
    up = root.require("uplink_message")
    received_at = up.time("received_at") or root.require_time("received_at")
    return Uplink(
        network=NETWORK,
        dev_eui=dev_eui,
        received_at=received_at,
        payload=up.base64("frm_payload"),
        f_port=up.integer("f_port", high=255),
        f_cnt=up.integer("f_cnt") or 0,
        session=up.text("session_key_id") or ids.text("dev_addr"),
        dedup_id=_correlation_id(root, up),
        device_name=ids.text("device_id"),
        application=_application(ids),
        decoded=up.mapping("decoded_payload"),
        radio=_radio(up),
        simulated=root.boolean("simulated"),
    )


def _application(ids: Node) -> str | None:
    app = ids.child("application_ids")
    return app.text("application_id") if app is not None else None


def _correlation_id(root: Node, up: Node) -> str | None:
    """The Network Server's id of the uplink (``ns:uplink:…``), the same whichever
    integration delivers it; else the Application Server's (``as:up:…``)."""
    ids = root.strings("correlation_ids") + up.strings("correlation_ids")
    for prefix in ("ns:uplink:", "as:up:"):
        for value in ids:
            if value.startswith(prefix):
                return value
    return None


def _radio(up: Node) -> Radio:
    gateways = [
        (gateway.number("rssi") or gateway.number("channel_rssi"), gateway.number("snr"))
        for gateway in up.children("rx_metadata")
    ]
    settings = up.child("settings")
    if settings is None:
        return best_radio(gateways, None, None)
    rate = settings.child("data_rate")
    lora = rate.child("lora") if rate is not None else None
    spreading_factor = lora.integer("spreading_factor", high=255) if lora is not None else None
    frequency = settings.integer("frequency", high=10**12)
    return best_radio(gateways, spreading_factor, frequency)


# --- the common uplink, read quickly ----------------------------------------------------
#
# Nearly every message is an uplink with every member as The Things Stack writes it. Reading
# it through ``Node`` costs several times the JSON decoding, so it is read here straight from
# the dicts: the same members, the same checks, the same Uplink. Anything unusual (a member
# of another type, out of range, an EUI with separators…) stops the quick reading, and the
# full one (``read``) reads the message again and names what is wrong.


class Unusual(Exception):
    """The message is not the common uplink the quick reading takes."""


_EUI = re.compile(r"[0-9A-Fa-f]{16}", re.ASCII)
_FREQUENCY_MAX = 10**12
_FRAME_COUNTER_MAX = 2**32 - 1


def quick_uplink(data: dict[str, Any], topic: str | None) -> Uplink:
    """The common uplink as ``_uplink`` reads it; ``Unusual`` (or a FormatError without
    its member's path) if it is anything else."""
    up, ids = data.get("uplink_message"), data.get("end_device_ids")
    if type(up) is not dict or type(ids) is not dict:
        raise Unusual
    dev_eui = ids.get("dev_eui")
    if type(dev_eui) is not str or not _EUI.fullmatch(dev_eui):
        raise Unusual
    device_name = _text(ids.get("device_id"))
    applications = _object(ids.get("application_ids"))
    application = _text(applications.get("application_id")) if applications else None
    if topic is not None:
        match = _TOPIC.fullmatch(topic)
        if match is None or match["ev"] != "up":
            raise Unusual
        if device_name not in (None, match["dev"]) or application not in (None, match["app"]):
            raise Unusual
    received_at = _text(up.get("received_at")) or _text(data.get("received_at"))
    if received_at is None:
        raise Unusual
    payload = _text(up.get("frm_payload"))
    return Uplink(
        network=NETWORK,
        dev_eui=dev_eui.upper(),
        received_at=parse_time(received_at, ""),
        payload=b"" if payload is None else decode_base64(payload, ""),
        f_port=_integer(up.get("f_port"), 255),
        f_cnt=_integer(up.get("f_cnt"), _FRAME_COUNTER_MAX) or 0,
        session=_text(up.get("session_key_id")) or _text(ids.get("dev_addr")),
        dedup_id=_quick_correlation_id(data, up),
        device_name=device_name,
        application=application,
        decoded=_object(up.get("decoded_payload")),
        radio=_quick_radio(up),
        simulated=_boolean(data.get("simulated")),
    )


def _quick_correlation_id(data: dict[str, Any], up: dict[str, Any]) -> str | None:
    ids = _strings(data.get("correlation_ids")) + _strings(up.get("correlation_ids"))
    for prefix in ("ns:uplink:", "as:up:"):
        for value in ids:
            if value.startswith(prefix):
                return value
    return None


def _quick_radio(up: dict[str, Any]) -> Radio:
    gateways = []
    for gateway in _list(up.get("rx_metadata")):
        if type(gateway) is not dict:
            raise Unusual
        rssi = _number(gateway.get("rssi")) or _number(gateway.get("channel_rssi"))
        gateways.append((rssi, _number(gateway.get("snr"))))
    settings = _object(up.get("settings"))
    if settings is None:
        return best_radio(gateways, None, None)
    rate = _object(settings.get("data_rate"))
    lora = _object(rate.get("lora")) if rate is not None else None
    spreading_factor = _integer(lora.get("spreading_factor"), 255) if lora is not None else None
    return best_radio(
        gateways, spreading_factor, _integer(settings.get("frequency"), _FREQUENCY_MAX)
    )


def _text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value or None
    raise Unusual


def _object(value: Any) -> dict[str, Any] | None:
    if value is None or type(value) is dict:
        return value
    raise Unusual


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if type(value) is list:
        return value
    raise Unusual


def _strings(value: Any) -> list[str]:
    items = _list(value)
    if all(type(item) is str for item in items):
        return items
    raise Unusual


def _integer(value: Any, high: int) -> int | None:
    if value is None:
        return None
    if type(value) is str and DECIMAL.fullmatch(value):
        value = int(value)
    if type(value) is int and 0 <= value <= high:
        return value
    raise Unusual


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is int or type(value) is float:
        return float(value)
    raise Unusual


def _boolean(value: Any) -> bool:
    if value is None:
        return False
    if type(value) is bool:
        return value
    raise Unusual


def _event(root: Node, ids: Node, dev_eui: str, member: str) -> Event:
    body = root.require(member)
    received_at = _event_time(root, body, member)
    details: dict[str, Any] = {"event": member}
    details.update(_DETAILS.get(member, _other)(body, ids))
    return Event(NETWORK, EVENT_KINDS[member], dev_eui, received_at, details)


def _event_time(root: Node, body: Node, member: str) -> datetime:
    received_at = body.time("received_at") if member == "join_accept" else None
    return received_at or root.require_time("received_at")


def _join(body: Node, ids: Node) -> dict[str, Any]:
    return {"session": body.text("session_key_id"), "dev_addr": ids.text("dev_addr")}


def _downlink(body: Node, ids: Node) -> dict[str, Any]:
    return {
        "f_port": body.integer("f_port", high=255),
        "f_cnt_down": body.integer("f_cnt") or 0,
        "confirmed": body.boolean("confirmed"),
        "session": body.text("session_key_id"),
    }


def _ack(body: Node, ids: Node) -> dict[str, Any]:
    return {**_downlink(body, ids), "acknowledged": True}


def _nack(body: Node, ids: Node) -> dict[str, Any]:
    return {**_downlink(body, ids), "acknowledged": False}


def _failed(body: Node, ids: Node) -> dict[str, Any]:
    downlink = body.child("downlink")
    details = _downlink(downlink, ids) if downlink is not None else {}
    return {**details, "level": "ERROR", "error": body.mapping("error")}


def _location(body: Node, ids: Node) -> dict[str, Any]:
    location = body.require("location")
    return {
        "service": body.text("service"),
        "latitude": location.number("latitude") or 0.0,
        "longitude": location.number("longitude") or 0.0,
        "altitude": location.number("altitude"),
        "accuracy": location.number("accuracy"),
        "source": location.text("source"),
    }


def _other(body: Node, ids: Node) -> dict[str, Any]:
    return {"service": body.text("service"), "data": body.mapping("data")}


_DETAILS = {
    "join_accept": _join,
    "downlink_ack": _ack,
    "downlink_nack": _nack,
    "downlink_sent": _downlink,
    "downlink_queued": _downlink,
    "downlink_failed": _failed,
    "location_solved": _location,
}
