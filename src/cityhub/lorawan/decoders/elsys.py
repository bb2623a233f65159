"""Elsys ERS family (ERS, ERS CO2, ERS Lite, ERS VOC, ERS Sound, ELT…): Elsys' generic
payload, a sequence of one type byte followed by that type's fixed number of data bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import Reader
from cityhub.lorawan.decoders.builtin import BuiltinDecoder

Values = dict[str, Any]


@dataclass(frozen=True)
class Scalar:
    """One integer of ``size`` bytes (big-endian), divided by ``scale``."""

    key: str
    size: int
    signed: bool = False
    scale: int = 1

    def read(self, reader: Reader, values: Values) -> None:
        raw = reader.sint(self.size, self.key) if self.signed else reader.uint(self.size, self.key)
        values[self.key] = raw / self.scale if self.scale != 1 else raw


def _acceleration(reader: Reader, values: Values) -> None:
    for axis in "xyz":
        values[axis] = reader.sint(1, "acceleration")


def _gps(reader: Reader, values: Values) -> None:
    values["lat"] = reader.uint(3, "GPS latitude")
    values["long"] = reader.uint(3, "GPS longitude")


def _ir_temperature(reader: Reader, values: Values) -> None:
    values["irInternalTemperature"] = reader.sint(2, "IR temperature") / 10
    values["irExternalTemperature"] = reader.sint(2, "IR temperature") / 10


def _grideye(reader: Reader, values: Values) -> None:
    reference = reader.uint(1, "Grid-EYE reference")
    values["grideye"] = [reference + pixel / 10.0 for pixel in reader.take(64, "Grid-EYE")]


def _sound(reader: Reader, values: Values) -> None:
    values["soundPeak"] = reader.uint(1, "sound peak")
    values["soundAvg"] = reader.uint(1, "sound average")


def _external_temperature_2(reader: Reader, values: Values) -> None:
    """A second external probe; repeated, its readings become a list."""
    value = reader.sint(2, "external temperature 2") / 10
    previous = values.get("externalTemperature2")
    if previous is None:
        values["externalTemperature2"] = value
    elif isinstance(previous, list):
        previous.append(value)
    else:
        values["externalTemperature2"] = [previous, value]


Reading = Callable[[Reader, Values], None]

TYPES: dict[int, Reading] = {
    0x01: Scalar("temperature", 2, signed=True, scale=10).read,
    0x02: Scalar("humidity", 1).read,
    0x03: _acceleration,
    0x04: Scalar("light", 2).read,
    0x05: Scalar("motion", 1).read,
    0x06: Scalar("co2", 2).read,
    0x07: Scalar("vdd", 2).read,
    0x08: Scalar("analog1", 2).read,
    0x09: _gps,
    0x0A: Scalar("pulse1", 2).read,
    0x0B: Scalar("pulseAbs", 4).read,
    0x0C: Scalar("externalTemperature", 2, signed=True, scale=10).read,
    0x0D: Scalar("digital", 1).read,
    0x0E: Scalar("distance", 2).read,
    0x0F: Scalar("accMotion", 1).read,
    0x10: _ir_temperature,
    0x11: Scalar("occupancy", 1).read,
    0x12: Scalar("waterleak", 1).read,
    0x13: _grideye,
    0x14: Scalar("pressure", 4, signed=True, scale=1000).read,
    0x15: _sound,
    0x16: Scalar("pulse2", 2).read,
    0x17: Scalar("pulseAbs2", 4).read,
    0x18: Scalar("analog2", 2).read,
    0x19: _external_temperature_2,
    0x1A: Scalar("digital2", 1).read,
    0x1B: Scalar("analogUv", 4, signed=True).read,
    0x1C: Scalar("tvoc", 2).read,
}


class ElsysDecoder(BuiltinDecoder):
    name = "elsys"
    description = (
        "Elsys ERS, ERS CO2, ERS Lite and other Elsys sensors sending Elsys' generic "
        "payload (any FPort)"
    )
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "temperature": units.AIR_TEMPERATURE,
        "humidity": units.RELATIVE_HUMIDITY,
        "light": units.ILLUMINANCE,
        "motion": units.MOTION_COUNT,
        "co2": units.CO2,
        "vdd": units.BATTERY_MILLIVOLT,
        "analog1": FieldInfo("Analog input 1", "mV", "millivolt"),
        "analog2": FieldInfo("Analog input 2", "mV", "millivolt"),
        "analogUv": FieldInfo("Analog input", "µV", "microvolt"),
        "pulse1": FieldInfo("Pulse count 1", "{count}", "count"),
        "pulseAbs": FieldInfo("Pulse count 1 (total)", "{count}", "count"),
        "pulse2": FieldInfo("Pulse count 2", "{count}", "count"),
        "pulseAbs2": FieldInfo("Pulse count 2 (total)", "{count}", "count"),
        "externalTemperature": units.TEMPERATURE,
        "externalTemperature2": FieldInfo("Temperature (probe 2)", "°C", "degree Celsius"),
        "irInternalTemperature": units.DEVICE_TEMPERATURE,
        "irExternalTemperature": FieldInfo("Surface temperature", "°C", "degree Celsius"),
        "distance": units.DISTANCE_MM,
        "accMotion": FieldInfo("Vibration count", "{count}", "count"),
        "occupancy": FieldInfo("Occupancy", None, None),
        "waterleak": FieldInfo("Water leak", None, None),
        "pressure": units.PRESSURE_HPA,
        "soundPeak": FieldInfo("Sound level (peak)", "dB", "decibel"),
        "soundAvg": FieldInfo("Sound level (average)", "dB", "decibel"),
        "tvoc": units.TVOC_PPB,
        "x": FieldInfo("Acceleration X", "{63=1g}", "1/63 g"),
        "y": FieldInfo("Acceleration Y", "{63=1g}", "1/63 g"),
        "z": FieldInfo("Acceleration Z", "{63=1g}", "1/63 g"),
    }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        values: Values = {}
        reader = Reader(payload)
        while reader.remaining > 0:
            position = reader.pos
            kind = reader.uint(1)
            read = TYPES.get(kind)
            if read is None:
                warnings.append(
                    f"unknown Elsys data type 0x{kind:02X} at byte {position}: "
                    "the rest of the payload is ignored"
                )
                break
            read(reader, values)
        return values
