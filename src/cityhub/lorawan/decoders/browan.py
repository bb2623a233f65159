"""Browan Tabs sensors: TBHH100 temperature and humidity, TBMS100 motion."""

from __future__ import annotations

from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import PayloadError, require_length
from cityhub.lorawan.decoders.builtin import BuiltinDecoder


def _battery(byte: int) -> float:
    """Battery voltage in the low nibble, in tenths of a volt above 2.5 V."""
    return (25 + (byte & 0x0F)) / 10


def _temperature(byte: int) -> int:
    """Temperature in 7 bits, offset by 32 °C."""
    return (byte & 0x7F) - 32


class TBHH100(BuiltinDecoder):
    name = "browan-tbhh100"
    description = "Browan TBHH100 temperature and humidity sensor (FPort 103)"
    ports = frozenset({103})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "battery": units.BATTERY_VOLTAGE,
        "temperature": units.AIR_TEMPERATURE,
        "humidity": units.RELATIVE_HUMIDITY,
    }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        require_length(payload, 4, "TBHH100")
        return {
            "status": payload[0] >> 3,
            "battery": _battery(payload[1]),
            "temperature": _temperature(payload[2]),
            "humidity": payload[3] & 0x7F,
        }


class TBMS100(BuiltinDecoder):
    name = "browan-tbms100"
    description = "Browan TBMS100 motion sensor (FPort 102)"
    ports = frozenset({102})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "battery": units.BATTERY_VOLTAGE,
        "temperatureBoard": units.DEVICE_TEMPERATURE,
        "time": FieldInfo("Time since last motion", "min", "minute"),
        "count": FieldInfo("Motion count", "{count}", "count"),
    }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        if not any(payload):
            raise PayloadError("empty payload")
        require_length(payload, 8, "TBMS100")
        return {
            "status": payload[0] & 0x01,
            "battery": _battery(payload[1]),
            "temperatureBoard": _temperature(payload[2]),
            "time": int.from_bytes(payload[3:5], "little"),
            "count": int.from_bytes(payload[5:8], "little"),
        }
