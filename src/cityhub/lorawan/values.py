"""From a decoded payload to the values of a device's Datastreams.

Decoders nest some values (Decentlab: ``{"displayName", "value", "unit"}``; others group
readings in objects): a nested value is named by its path, ``"pm.pm2_5"``, and an object
with a ``value`` member stands for that value. Radio metadata can be mapped like a field:
``radio.rssi``, ``radio.snr``, ``radio.spreading_factor``, ``radio.gateway_count``,
``radio.f_cnt``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cityhub.lorawan.decoders import Decoder, JavaScriptCodec, get_decoder
from cityhub.lorawan.registry import Target
from cityhub.lorawan.uplink import Uplink
from cityhub.sensorthings.model import OBSERVATION_TYPE_BASE


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every leaf value of a decoded payload by its dotted path (lists are leaves)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if "value" in value and not isinstance(value["value"], dict | list):
                flat[name] = value["value"]
            else:
                flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def radio_values(uplink: Uplink) -> dict[str, Any]:
    radio = uplink.radio
    values = {
        "radio.rssi": radio.rssi,
        "radio.snr": radio.snr,
        "radio.spreading_factor": radio.spreading_factor,
        "radio.gateway_count": radio.gateway_count,
        "radio.f_cnt": uplink.f_cnt,
    }
    return {k: v for k, v in values.items() if v is not None}


def as_number(value: Any) -> float | int | None:
    """A finite number, or a text that is one (some codecs give fixed-decimal strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def checked_value(name: str, value: Any, target: Target) -> tuple[Any, str | None]:
    """The value as its Datastream stores it, or why it does not fit (type or range)."""
    kind = target.observation_type.removeprefix(OBSERVATION_TYPE_BASE)
    if kind in ("OM_Measurement", "OM_CountObservation"):
        number = as_number(value)
        if number is None or (kind == "OM_CountObservation" and not _is_integer(number)):
            return None, f"{_where(name, target)}: {value!r} is not a {kind} result"
        if kind == "OM_CountObservation":
            number = int(number)
        if target.low is not None and number < target.low:
            where = _where(name, target)
            return None, f"{where}: {number} is below the declared range minimum {target.low}"
        if target.high is not None and number > target.high:
            where = _where(name, target)
            return None, f"{where}: {number} is above the declared range maximum {target.high}"
        return number, None
    if kind == "OM_TruthObservation" and not isinstance(value, bool):
        return None, f"{_where(name, target)}: {value!r} is not true or false"
    if kind == "OM_CategoryObservation" and not isinstance(value, str):
        return None, f"{_where(name, target)}: {value!r} is not a text"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"{_where(name, target)}: {value!r} is not a finite number"
    return value, None


def _where(name: str, target: Target) -> str:
    """How a problem names the value (spelt out only for a problem: most values have none)."""
    return f"field {name!r} (Datastream({target.datastream_id}))"


def _is_integer(number: float | int) -> bool:
    return isinstance(number, int) or number.is_integer()


_CODECS: dict[str, tuple[float, JavaScriptCodec]] = {}


def resolve_decoder(name: str) -> Decoder:
    """A built-in or dotted-path decoder by name, or a JavaScript codec by the path of its
    ``.js`` file (reloaded when the file changes)."""
    if not name.endswith(".js"):
        return get_decoder(name)
    path = Path(name)
    modified = path.stat().st_mtime
    cached = _CODECS.get(name)
    if cached is None or cached[0] != modified:
        codec = JavaScriptCodec(path.stem, path.read_text(encoding="utf-8"))
        cached = _CODECS[name] = (modified, codec)
    return cached[1]
