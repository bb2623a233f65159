"""ChirpStack v4 integration events in Protocol Buffers (``marshaler = "protobuf"``).

The message types are built at run time with the protobuf library from the field numbers
of ChirpStack's ``integration.proto`` (with the parts of ``gw.proto`` and ``common.proto`` it
uses), in a pool of their own. Only the members cityhub reads are declared; any other field
on the wire is skipped by the library as an unknown field. A decoded event is turned into the
same JSON shape ChirpStack's JSON marshaler writes, so one parser reads both encodings.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    json_format,
    message_factory,
    struct_pb2,
    timestamp_pb2,
)
from google.protobuf.message import DecodeError, Message

from cityhub.lorawan.uplink import FormatError

_TS = ".google.protobuf.Timestamp"
_STRUCT = ".google.protobuf.Struct"
_INFO = ".integration.DeviceInfo"
_MAP = "map"  # a map<string, string>

#: Message name → fields as (name, number, type); a type starting with "*" is repeated, one
#: starting with "." names a message or an enum.
_COMMON: dict[str, list[tuple[str, int, str]]] = {
    "Location": [
        ("latitude", 1, "double"),
        ("longitude", 2, "double"),
        ("altitude", 3, "double"),
        ("source", 4, ".common.LocationSource"),
        ("accuracy", 5, "float"),
    ],
}
_GW: dict[str, list[tuple[str, int, str]]] = {
    "LoraModulationInfo": [("bandwidth", 1, "uint32"), ("spreading_factor", 2, "uint32")],
    "Modulation": [("lora", 3, ".gw.LoraModulationInfo")],
    "UplinkTxInfo": [("frequency", 1, "uint32"), ("modulation", 2, ".gw.Modulation")],
    "UplinkRxInfo": [
        ("gateway_id", 1, "string"),
        ("uplink_id", 2, "uint32"),
        ("gw_time", 3, _TS),
        ("rssi", 6, "int32"),
        ("snr", 7, "float"),
        ("channel", 8, "uint32"),
        ("location", 12, ".common.Location"),
        ("ns_time", 17, _TS),
    ],
    "DownlinkTxInfo": [("frequency", 1, "uint32"), ("power", 2, "int32")],
}
_HEAD = [("deduplication_id", 1, "string"), ("time", 2, _TS), ("device_info", 3, _INFO)]
_INTEGRATION: dict[str, list[tuple[str, int, str]]] = {
    "DeviceInfo": [
        ("tenant_id", 1, "string"),
        ("tenant_name", 2, "string"),
        ("application_id", 3, "string"),
        ("application_name", 4, "string"),
        ("device_profile_id", 5, "string"),
        ("device_profile_name", 6, "string"),
        ("device_name", 7, "string"),
        ("dev_eui", 8, "string"),
        ("tags", 9, _MAP),
    ],
    "UplinkEvent": [
        *_HEAD,
        ("dev_addr", 4, "string"),
        ("adr", 5, "bool"),
        ("dr", 6, "uint32"),
        ("f_cnt", 7, "uint32"),
        ("f_port", 8, "uint32"),
        ("confirmed", 9, "bool"),
        ("data", 10, "bytes"),
        ("object", 11, _STRUCT),
        ("rx_info", 12, "*.gw.UplinkRxInfo"),
        ("tx_info", 13, ".gw.UplinkTxInfo"),
        ("region_config_id", 16, "string"),
    ],
    "JoinEvent": [*_HEAD, ("dev_addr", 4, "string"), ("region_config_id", 7, "string")],
    "AckEvent": [
        *_HEAD,
        ("queue_item_id", 4, "string"),
        ("acknowledged", 5, "bool"),
        ("f_cnt_down", 6, "uint32"),
    ],
    "TxAckEvent": [
        ("downlink_id", 1, "uint32"),
        ("time", 2, _TS),
        ("device_info", 3, _INFO),
        ("queue_item_id", 4, "string"),
        ("f_cnt_down", 5, "uint32"),
        ("gateway_id", 6, "string"),
        ("tx_info", 7, ".gw.DownlinkTxInfo"),
    ],
    "LogEvent": [
        ("time", 1, _TS),
        ("device_info", 2, _INFO),
        ("level", 3, ".integration.LogLevel"),
        ("code", 4, ".integration.LogCode"),
        ("description", 5, "string"),
        ("context", 6, _MAP),
    ],
    "StatusEvent": [
        *_HEAD,
        ("margin", 5, "int32"),
        ("external_power_source", 6, "bool"),
        ("battery_level_unavailable", 7, "bool"),
        ("battery_level", 8, "float"),
    ],
    "LocationEvent": [*_HEAD, ("location", 4, ".common.Location")],
    "IntegrationEvent": [
        *_HEAD,
        ("integration_name", 4, "string"),
        ("event_type", 5, "string"),
        ("object", 6, _STRUCT),
    ],
}
_ENUMS: dict[str, dict[str, list[str]]] = {
    "common": {
        "LocationSource": [
            "UNKNOWN",
            "GPS",
            "CONFIG",
            "GEO_RESOLVER_TDOA",
            "GEO_RESOLVER_RSSI",
            "GEO_RESOLVER_GNSS",
            "GEO_RESOLVER_WIFI",
        ],
    },
    "integration": {
        "LogLevel": ["INFO", "WARNING", "ERROR"],
        "LogCode": [
            "UNKNOWN",
            "DOWNLINK_PAYLOAD_SIZE",
            "UPLINK_CODEC",
            "DOWNLINK_CODEC",
            "OTAA",
            "UPLINK_F_CNT_RESET",
            "UPLINK_MIC",
            "UPLINK_F_CNT_RETRANSMISSION",
            "DOWNLINK_GATEWAY",
            "RELAY_NEW_END_DEVICE",
            "F_CNT_DOWN",
            "EXPIRED",
        ],
    },
}
#: Event type (topic ``…/event/{type}``, HTTP ``?event=``) → message.
EVENT_MESSAGES = {
    "up": "UplinkEvent",
    "join": "JoinEvent",
    "ack": "AckEvent",
    "txack": "TxAckEvent",
    "log": "LogEvent",
    "status": "StatusEvent",
    "location": "LocationEvent",
    "integration": "IntegrationEvent",
}
_SCALARS = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
    "uint32": descriptor_pb2.FieldDescriptorProto.TYPE_UINT32,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
    "double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
}
_ENUM_NAMES = {f".{package}.{name}" for package, enums in _ENUMS.items() for name in enums}


def message_class(event: str) -> type[Message]:
    """The protobuf class of a ChirpStack v4 event type (``up``, ``join``, ``status``…)."""
    name = EVENT_MESSAGES.get(event)
    if name is None:
        raise FormatError(f"unknown ChirpStack event type {event[:40]!r}", "event")
    return _classes()[name]


def decode(event: str, body: bytes) -> dict[str, Any]:
    """A binary event as the JSON object ChirpStack's JSON marshaler would have written."""
    message = message_class(event)()
    try:
        message.ParseFromString(body)
    except (DecodeError, RecursionError) as exc:
        raise FormatError(f"not a ChirpStack {event} protobuf message ({exc})") from None
    try:
        # Fields are written even when zero, as ChirpStack's JSON does for its events.
        return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    except (json_format.Error, ValueError, OverflowError, RecursionError) as exc:
        # Values JSON cannot hold: a timestamp out of range, NaN in the decoded object.
        raise FormatError(f"a ChirpStack {event} message JSON cannot hold ({exc})") from None


@cache
def _classes() -> dict[str, type[Message]]:
    pool = descriptor_pool.DescriptorPool()
    for module in (timestamp_pb2, struct_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    timestamp = "google/protobuf/timestamp.proto"
    pool.Add(_file("common", _COMMON, [timestamp]))
    pool.Add(_file("gw", _GW, ["common/common.proto", timestamp]))
    deps = ["common/common.proto", "gw/gw.proto", timestamp, "google/protobuf/struct.proto"]
    pool.Add(_file("integration", _INTEGRATION, deps))
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"integration.{name}"))
        for name in EVENT_MESSAGES.values()
    }


def _file(
    package: str, messages: dict[str, list[tuple[str, int, str]]], deps: list[str]
) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"{package}/{package}.proto", package=package, syntax="proto3", dependency=deps
    )
    for name, values in _ENUMS.get(package, {}).items():
        enum = proto.enum_type.add(name=name)
        for number, value in enumerate(values):
            enum.value.add(name=value, number=number)
    for name, fields in messages.items():
        message = proto.message_type.add(name=name)
        for field_name, number, kind in fields:
            _add_field(message, package, field_name, number, kind)
    return proto


def _add_field(
    message: descriptor_pb2.DescriptorProto, package: str, name: str, number: int, kind: str
) -> None:
    field = message.field.add(name=name, number=number)
    field.label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    if kind == _MAP:
        entry_name = "".join(part.title() for part in name.split("_")) + "Entry"
        entry = message.nested_type.add(name=entry_name)
        entry.options.map_entry = True
        _add_field(entry, package, "key", 1, "string")
        _add_field(entry, package, "value", 2, "string")
        kind = f"*.{package}.{message.name}.{entry_name}"
    if kind.startswith("*"):
        field.label = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
        kind = kind[1:]
    if kind in _SCALARS:
        field.type = _SCALARS[kind]
        return
    field.type_name = kind
    field.type = (
        descriptor_pb2.FieldDescriptorProto.TYPE_ENUM
        if kind in _ENUM_NAMES
        else descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
    )
