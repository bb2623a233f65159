"""The device registry: which Thing a LoRaWAN device feeds, how its payload is decoded, and
which decoded field goes to which Datastream.

A device's Thing, Location, Sensor, ObservedProperties and Datastreams are ordinary
SensorThings entities, created here through the same deep insert a client would send. The
registry itself keeps only the binding: ``mapping`` is ``{field: Datastream id}``. A
Datastream may declare the range its values must lie in, as ``properties.range``
``[low, high]`` (either may be null); an uplink with a value outside it is a dead letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from cityhub.errors import BadRequest, Conflict, NotFound
from cityhub.lorawan.decoders import FieldInfo, UnknownDecoder
from cityhub.sensorthings import derived, writes
from cityhub.sensorthings.model import BY_NAME, OBSERVATION_TYPE_BASE
from cityhub.store import schema
from cityhub.store.dialects import one_of

_devices = schema.lorawan_devices
_EUI = re.compile(r"[0-9A-Fa-f]{16}")
MEASUREMENT = OBSERVATION_TYPE_BASE + "OM_Measurement"
#: Radio metadata a device may map like a decoded field (see ``values.radio_values``).
RADIO_FIELDS = {
    "radio.rssi": FieldInfo("Received signal strength", "dBm", "decibel-milliwatt"),
    "radio.snr": FieldInfo("Signal-to-noise ratio", "dB", "decibel"),
    "radio.spreading_factor": FieldInfo("LoRa spreading factor", "1", "one"),
    "radio.gateway_count": FieldInfo("Receiving gateways", "{count}", "count"),
    "radio.f_cnt": FieldInfo("Frame counter", "{count}", "count"),
}


@dataclass(frozen=True)
class Target:
    """Where one decoded field goes: a Datastream, its observation type and declared range."""

    datastream_id: int
    observation_type: str
    low: float | None = None
    high: float | None = None


@dataclass
class Device:
    """What ingest needs of one registered device."""

    id: int
    dev_eui: str
    name: str
    decoder: str | None
    thing_id: int | None
    feature_of_interest_id: int | None
    targets: dict[str, Target] = field(default_factory=dict)
    #: Fields whose Datastream no longer exists (a dead letter names them).
    missing: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    """A Datastream to create for one decoded field (or an existing one to use)."""

    name: str
    observed_property: str | None = None
    unit_symbol: str | None = None
    unit_name: str | None = None
    definition: str | None = None
    low: float | None = None
    high: float | None = None
    datastream: int | None = None


def normalized_eui(value: Any) -> str:
    """A DevEUI as 16 upper-case hex digits (separators ':' and '-' allowed), or a 400."""
    text = value.replace(":", "").replace("-", "") if isinstance(value, str) else ""
    if not _EUI.fullmatch(text):
        raise BadRequest(f"dev_eui: {value!r} is not a DevEUI (16 hex digits)")
    return text.upper()


# --- reading, for ingest -----------------------------------------------------------------


def load_devices(connection: Connection, dev_euis: set[str]) -> dict[str, Device]:
    """The registered devices among ``dev_euis``, with their Datastreams' types and ranges:
    two queries for a whole batch of uplinks."""
    if not dev_euis:
        return {}
    wanted_euis = one_of(connection, _devices.c.dev_eui, sorted(dev_euis))
    rows = connection.execute(select(_devices).where(wanted_euis))
    devices = {row.dev_eui: _device(row) for row in rows}
    wanted = {i for d in devices.values() for i in d.missing.values()}
    streams = _stream_facts(connection, wanted)
    for device in devices.values():
        for name, stream_id in list(device.missing.items()):
            if stream_id in streams:
                device.targets[name] = streams[stream_id]
                del device.missing[name]
    return devices


def _device(row: Any) -> Device:
    mapping = row.mapping or {}
    return Device(
        id=row.id,
        dev_eui=row.dev_eui,
        name=row.name,
        decoder=row.decoder,
        thing_id=row.thing_id,
        feature_of_interest_id=row.feature_of_interest_id,
        missing={str(k): int(v) for k, v in mapping.items()},
    )


def _stream_facts(connection: Connection, ids: set[int]) -> dict[int, Target]:
    if not ids:
        return {}
    table = schema.datastreams
    statement = select(table.c.id, table.c.observation_type, table.c.properties).where(
        one_of(connection, table.c.id, sorted(ids))
    )
    facts = {}
    for row in connection.execute(statement):
        low, high = _declared_range(row.properties)
        facts[row.id] = Target(row.id, row.observation_type, low, high)
    return facts


def _declared_range(properties: Any) -> tuple[float | None, float | None]:
    bounds = properties.get("range") if isinstance(properties, dict) else None
    if not isinstance(bounds, list) or len(bounds) != 2:
        return None, None
    low, high = (_number(b) for b in bounds)
    return low, high


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def feature_of(connection: Connection, device: Device) -> int:
    """The FeatureOfInterest of the device's Observations (made at registration; made again
    here if it was deleted since)."""
    if device.feature_of_interest_id is not None:
        return device.feature_of_interest_id
    feature_id = _new_feature(connection, device.dev_eui, device.name, device.thing_id)
    connection.execute(
        update(_devices).where(_devices.c.id == device.id).values(feature_of_interest_id=feature_id)
    )
    device.feature_of_interest_id = feature_id
    return feature_id


def _new_feature(connection: Connection, eui: str, name: str, thing_id: int | None) -> int:
    """The feature derived from the Thing's Location, or one without geometry naming the
    device (a device without a Location still needs a FeatureOfInterest)."""
    if thing_id is not None:
        try:
            return derived.feature_from_location(connection, thing_id)
        except BadRequest:
            pass
    values = {
        "name": name,
        "description": f"LoRaWAN device {eui} (no location)",
        "encoding_type": "application/geo+json",
        "feature": {"type": "Feature", "geometry": None, "properties": {"devEUI": eui}},
    }
    statement = insert(schema.features_of_interest).values(values)
    return int(connection.execute(statement).inserted_primary_key[0])


def update_status(
    connection: Connection, dev_eui: str, battery: float | None, margin: int | None, at: datetime
) -> bool:
    """Keep a device's latest status (battery %, link margin dB); whether it is registered."""
    values: dict[str, Any] = {"status_at": at, "modified_at": datetime.now(UTC)}
    if battery is not None:
        values["battery"] = battery
    if margin is not None:
        values["margin"] = margin
    statement = update(_devices).where(_devices.c.dev_eui == dev_eui).values(values)
    return connection.execute(statement).rowcount > 0


# --- managing ----------------------------------------------------------------------------


def create_device(
    connection: Connection,
    *,
    dev_eui: str,
    name: str | None = None,
    decoder: str | None = None,
    integration: str | None = None,
    thing: int | None = None,
    dataset: str | None = None,
    location: dict[str, Any] | None = None,
    fields: list[FieldSpec] | None = None,
) -> int:
    """Register a device. Without ``thing`` a Thing is created (in ``dataset``, at
    ``location``); without ``fields`` every field the decoder declares gets a Datastream."""
    eui = normalized_eui(dev_eui)
    if connection.scalar(select(_devices.c.id).where(_devices.c.dev_eui == eui)) is not None:
        raise Conflict(f"a device {eui} is registered already")
    name = name or eui
    declared = _decoder_fields(decoder)
    if fields is None:
        fields = [FieldSpec(n) for n in declared]
    if thing is None:
        thing = _create_thing(connection, eui, name, integration, dataset, location)
    elif connection.scalar(select(schema.things.c.id).where(schema.things.c.id == thing)) is None:
        raise BadRequest(f"thing: Thing({thing}) does not exist")
    mapping = {}
    for spec in fields:
        info = declared.get(spec.name) or RADIO_FIELDS.get(spec.name)
        mapping[spec.name] = _datastream_for(connection, thing, name, decoder, spec, info)
    now = datetime.now(UTC)
    row = {
        "feature_of_interest_id": _new_feature(connection, eui, name, thing),
        "dev_eui": eui,
        "name": name,
        "decoder": decoder,
        "integration": integration,
        "thing_id": thing,
        "mapping": mapping,
        "location": location,
        "created_at": now,
        "modified_at": now,
    }
    return int(connection.execute(insert(_devices).values(row)).inserted_primary_key[0])


def _decoder_fields(decoder: str | None) -> dict[str, FieldInfo]:
    if decoder is None:
        return {}
    from cityhub.lorawan.values import resolve_decoder

    try:
        return dict(resolve_decoder(decoder).fields)
    except UnknownDecoder as exc:
        raise BadRequest(f"decoder: {exc}") from None
    except OSError as exc:
        raise BadRequest(f"decoder: cannot read the codec {decoder}: {exc}") from None


def _create_thing(
    connection: Connection,
    eui: str,
    name: str,
    integration: str | None,
    dataset: str | None,
    location: dict[str, Any] | None,
) -> int:
    properties: dict[str, Any] = {"devEUI": eui}
    if integration:
        properties["lorawanIntegration"] = integration
    if dataset:
        properties["dataset"] = dataset
    body: dict[str, Any] = {
        "name": name,
        "description": f"LoRaWAN device {eui}",
        "properties": properties,
    }
    if location is not None:
        body["Locations"] = [
            {
                "name": name,
                "description": f"Location of LoRaWAN device {eui}",
                "encodingType": "application/geo+json",
                "location": location,
            }
        ]
    return writes.create(connection, BY_NAME["Thing"], body)


def _datastream_for(
    connection: Connection,
    thing: int,
    device_name: str,
    decoder: str | None,
    spec: FieldSpec,
    info: FieldInfo | None,
) -> int:
    if spec.datastream is not None:
        table = schema.datastreams
        found = connection.scalar(select(table.c.id).where(table.c.id == spec.datastream))
        if found is None:
            raise BadRequest(f"fields.{spec.name}: Datastream({spec.datastream}) does not exist")
        return spec.datastream
    observed = spec.observed_property or (info.observed_property if info else spec.name)
    symbol = spec.unit_symbol or (info.unit_symbol if info else None)
    unit_name = spec.unit_name or (info.unit_name if info else None)
    properties: dict[str, Any] = {"lorawanField": spec.name}
    if spec.low is not None or spec.high is not None:
        properties["range"] = [spec.low, spec.high]
    body = {
        "name": f"{device_name} {spec.name}",
        "description": f"{observed} measured by {device_name}",
        "observationType": MEASUREMENT,
        "unitOfMeasurement": {"name": unit_name, "symbol": symbol, "definition": None},
        "properties": properties,
        "Sensor": {
            "name": decoder or "LoRaWAN device",
            "description": f"LoRaWAN device decoded by {decoder or 'its network server'}",
            "encodingType": "text/plain",
            "metadata": decoder or "",
        },
        "ObservedProperty": _observed_property(connection, observed, spec, info),
    }
    return writes.create(connection, BY_NAME["Datastream"], body, {"thing_id": thing})


def _observed_property(
    connection: Connection, name: str, spec: FieldSpec, info: FieldInfo | None
) -> dict[str, Any]:
    """A link to the ObservedProperty of that name if one exists, else a new one."""
    table = schema.observed_properties
    existing = connection.scalar(select(table.c.id).where(table.c.name == name).limit(1))
    if existing is not None:
        return {"@iot.id": int(existing)}
    definition = spec.definition or (info.definition if info else None) or ""
    return {"name": name, "definition": definition, "description": name}


def list_devices(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(select(_devices).order_by(_devices.c.dev_eui)).mappings()
    return [device_json(row) for row in rows]


def find_device(connection: Connection, dev_eui: str) -> dict[str, Any]:
    eui = normalized_eui(dev_eui)
    row = connection.execute(select(_devices).where(_devices.c.dev_eui == eui)).mappings().first()
    if row is None:
        raise NotFound(f"no device {eui} is registered")
    return device_json(row)


def update_device(connection: Connection, dev_eui: str, **values: Any) -> dict[str, Any]:
    """Change a device's name, decoder, integration or mapping (``{field: Datastream id}``)."""
    current = find_device(connection, dev_eui)
    allowed = {"name", "decoder", "integration", "mapping"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        changeable = ", ".join(sorted(allowed))
        raise BadRequest(f"cannot change {', '.join(unknown)}; changeable: {changeable}")
    _check_texts(values, ("name", "decoder", "integration"))
    if values.get("decoder") is not None:
        _decoder_fields(values["decoder"])
    if "mapping" in values:
        values["mapping"] = _checked_mapping(connection, values["mapping"])
    values["modified_at"] = datetime.now(UTC)
    connection.execute(update(_devices).where(_devices.c.id == current["id"]).values(values))
    return find_device(connection, current["dev_eui"])


def _checked_mapping(connection: Connection, mapping: Any) -> dict[str, int]:
    if not isinstance(mapping, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in mapping.values()
    ):
        raise BadRequest('mapping: send {"<field>": <Datastream @iot.id>, …}')
    known = _stream_facts(connection, set(mapping.values()))
    for name, stream_id in mapping.items():
        if stream_id not in known:
            raise BadRequest(f"mapping.{name}: Datastream({stream_id}) does not exist")
    return {str(k): int(v) for k, v in mapping.items()}


def delete_device(connection: Connection, dev_eui: str, *, with_thing: bool = False) -> None:
    """Unregister a device; ``with_thing`` deletes its Thing too (and with it its
    Datastreams and Observations)."""
    current = find_device(connection, dev_eui)
    connection.execute(delete(_devices).where(_devices.c.id == current["id"]))
    if with_thing and current["thing_id"] is not None:
        writes.delete_entity(connection, BY_NAME["Thing"], current["thing_id"])


def device_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "dev_eui": row["dev_eui"],
        "name": row["name"],
        "decoder": row["decoder"],
        "integration": row["integration"],
        "thing_id": row["thing_id"],
        "mapping": row["mapping"] or {},
        "location": row["location"],
        "battery": row["battery"],
        "margin": row["margin"],
        "status_at": _time(row["status_at"]),
        "created_at": _time(row["created_at"]),
        "modified_at": _time(row["modified_at"]),
    }


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


_DEVICE_KEYS = {
    "dev_eui",
    "name",
    "decoder",
    "integration",
    "thing",
    "dataset",
    "location",
    "fields",
}
_SPEC_KEYS = {"datastream", "observed_property", "unit_symbol", "unit_name", "definition", "range"}


def device_from_json(body: Any) -> dict[str, Any]:
    """The arguments of ``create_device`` from a JSON body, or a 400 naming what is wrong.

    ``fields`` is a list of field names, or an object of field name → ``{"datastream": id}``
    (an existing Datastream) or ``{"observed_property", "unit_symbol", "unit_name",
    "definition", "range": [low, high]}`` (all optional) for a new one."""
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object: {"dev_eui": "70B3D57ED0061A2C", "name": …}')
    unknown = sorted(set(body) - _DEVICE_KEYS)
    if unknown:
        raise BadRequest(f"unknown member {unknown[0]!r}; known: {', '.join(sorted(_DEVICE_KEYS))}")
    if not isinstance(body.get("dev_eui"), str):
        raise BadRequest('dev_eui: send the device\'s DevEUI as text, e.g. "70B3D57ED0061A2C"')
    arguments = dict(body)
    _check_texts(arguments, ("name", "decoder", "integration", "dataset"))
    thing = arguments.get("thing")
    if thing is not None and (isinstance(thing, bool) or not isinstance(thing, int)):
        raise BadRequest("thing must be the @iot.id of an existing Thing")
    location = arguments.get("location")
    if location is not None and not (isinstance(location, dict) and "type" in location):
        raise BadRequest('location must be a GeoJSON geometry, e.g. {"type": "Point", …}')
    if "fields" in arguments and arguments["fields"] is not None:
        arguments["fields"] = field_specs(arguments["fields"])
    return arguments


def _check_texts(values: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if values.get(name) is not None and not isinstance(values[name], str):
            raise BadRequest(f"{name} must be a text")


def field_specs(value: Any) -> list[FieldSpec]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [FieldSpec(v) for v in value]
    if not isinstance(value, dict):
        raise BadRequest("fields must be a list of field names or an object by field name")
    specs = []
    for name, spec in value.items():
        if not isinstance(spec, dict) or set(spec) - _SPEC_KEYS:
            known = ", ".join(sorted(_SPEC_KEYS))
            raise BadRequest(f"fields.{name} must be an object with some of: {known}")
        bounds = spec.get("range", [None, None])
        if not isinstance(bounds, list) or len(bounds) != 2:
            raise BadRequest(f"fields.{name}.range must be [low, high] (either may be null)")
        low, high = (_number(b) for b in bounds)
        if (low is None and bounds[0] is not None) or (high is None and bounds[1] is not None):
            raise BadRequest(f"fields.{name}.range must hold numbers or null")
        datastream = spec.get("datastream")
        if datastream is not None and (
            isinstance(datastream, bool) or not isinstance(datastream, int)
        ):
            raise BadRequest(f"fields.{name}.datastream must be a Datastream @iot.id")
        texts = {
            k: spec.get(k) for k in ("observed_property", "unit_symbol", "unit_name", "definition")
        }
        if any(v is not None and not isinstance(v, str) for v in texts.values()):
            raise BadRequest(f"fields.{name}: observed_property, units and definition are texts")
        specs.append(FieldSpec(name, low=low, high=high, datastream=datastream, **texts))
    return specs
