"""Nwave NPS parking sensors (NPS310, NPS405): parking status, heartbeat, start-up and
tag registration, one message type per FPort."""

from __future__ import annotations

from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import require_length, signed
from cityhub.lorawan.decoders.builtin import BuiltinDecoder

RESET_CAUSES = (
    "rejoining_lorawan_network",
    "watchdog",
    "power_on",
    "user_request",
    None,
    None,
    "brownout",
    "other",
)


def previous_state(compressed: int) -> dict[str, Any]:
    """How long the previous state lasted, in minutes, from its 7-bit compressed form:
    exact below 90, in 5-minute steps up to 240, in hours up to 660, then overflowed."""
    if compressed < 90:
        duration, error = compressed, 0
    elif compressed < 120:
        duration, error = 90 + (compressed - 90) * 5, 4
    elif compressed < 127:
        duration, error = 240 + (compressed - 120) * 60, 59
    else:
        duration, error = 660, None
    return {
        "previous_state_duration": duration,
        "previous_state_duration_error": error,
        "previous_state_duration_overflow": compressed == 127,
    }


def _battery_health(millivolts: int, temperature: float) -> str:
    critical, low = (2900, 3000) if temperature >= -5 else (2800, 2900)
    if millivolts >= low:
        return "normal"
    return "low" if millivolts >= critical else "critical"


class NwaveParking(BuiltinDecoder):
    name = "nwave-nps"
    description = "Nwave NPS310 / NPS405 parking sensors"
    ports = frozenset({1, 2, 3, 6, 10})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "temperature": units.DEVICE_TEMPERATURE,
        "battery_voltage": units.BATTERY_VOLTAGE,
        "previous_state_duration": FieldInfo("Previous state duration", "min", "minute"),
    }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        require_length(payload, {1: 1, 2: 3, 3: 5, 6: 0, 10: 5}[f_port], "this message")
        if f_port == 1:
            return {
                "type": "parking_status",
                "occupied": bool(payload[0] & 1),
                **previous_state(payload[0] >> 1 & 0x7F),
            }
        if f_port == 2:
            return _heartbeat(payload)
        if f_port == 3:
            return _startup(payload)
        if f_port == 6:
            return {"type": "debug", "bytes": list(payload)}
        return _registration(payload)


def _heartbeat(payload: bytes) -> dict[str, Any]:
    temperature = signed(payload[2], 8) / 2 + 10
    millivolts = 2500 + payload[1] * 4
    return {
        "type": "heartbeat",
        "occupied": bool(payload[0] & 1),
        "hw_health_status": payload[0] & 0x7F,
        "temperature": temperature,
        "battery_voltage": millivolts / 1000,
        "battery_health": _battery_health(millivolts, temperature),
    }


def _startup(payload: bytes) -> dict[str, Any]:
    cause = RESET_CAUSES[payload[3]] if payload[3] < len(RESET_CAUSES) else None
    data: dict[str, Any] = {
        "type": "startup",
        "firmware_version": f"{payload[0]}.{payload[1]}.{payload[2]}",
    }
    if cause is not None:  # the vendor's codec leaves it undefined, so it is absent
        data["reset_cause"] = cause
    data["occupied"] = bool(payload[4] & 1)
    return data


def _registration(payload: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "user_registration"}
    if payload[0] & 1:
        data["occupied"] = True
        data.update(previous_state(payload[0] >> 1 & 0x7F))
    else:
        data.update(
            occupied=None,
            previous_state_duration=None,
            previous_state_duration_error=None,
            previous_state_duration_overflow=None,
        )
    data["tag_id"] = f"{int.from_bytes(payload[1:5], 'big'):X}"
    return data
