"""Milesight IoT sensors (EM300-TH, EM310-UDL, AM307): Milesight's channel format, a
sequence of channel id, channel type and that channel's little-endian value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import PayloadError, Reader
from cityhub.lorawan.decoders.builtin import BuiltinDecoder

Read = Callable[[Reader], Any]
Channel = tuple[str, Read]


def uint8(reader: Reader) -> int:
    return reader.uint(1, "channel value")


def uint16(reader: Reader) -> int:
    return reader.uint(2, "channel value", little=True)


def scaled(read: Read, divisor: int) -> Read:
    return lambda reader: read(reader) / divisor


def int16_tenths(reader: Reader) -> float:
    return reader.sint(2, "channel value", little=True) / 10


def flag(when_one: str, otherwise: str) -> Read:
    return lambda reader: when_one if uint8(reader) == 1 else otherwise


def _version(reader: Reader) -> str:
    major, minor = reader.take(2, "version")
    return f"v{major:x}.{minor:x}"


def _serial(reader: Reader) -> str:
    return reader.take(8, "serial number").hex()


def _ipso_version(reader: Reader) -> str:
    major, minor = divmod(uint8(reader), 16)
    return f"v{major}.{minor}"


def _hardware_version(reader: Reader) -> str:
    major, minor = reader.take(2, "hardware version")
    return f"v{major:x}.{minor >> 4}"


#: Device information channels all Milesight sensors send after joining.
DEVICE_INFO: dict[tuple[int, int], Channel] = {
    (0xFF, 0x01): ("ipso_version", _ipso_version),
    (0xFF, 0x09): ("hardware_version", _hardware_version),
    (0xFF, 0x0A): ("firmware_version", _version),
    (0xFF, 0x16): ("sn", _serial),
    (0xFF, 0x0F): (
        "lorawan_class",
        lambda r: {0: "Class A", 1: "Class B", 2: "Class C"}.get(uint8(r), "unknown"),
    ),
    (0xFF, 0x0B): ("device_status", lambda r: "on" if uint8(r) else "off"),
}


class MilesightDecoder(BuiltinDecoder):
    """The channel format; subclasses declare ``channels``."""

    channels: ClassVar[dict[tuple[int, int], Channel]] = {}

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        reader = Reader(payload)
        while reader.remaining > 0:
            position = reader.pos
            channel = (reader.uint(1, "channel id"), reader.uint(1, "channel type"))
            known = self.channels.get(channel) or DEVICE_INFO.get(channel)
            if known is None:
                warnings.append(
                    f"unknown channel 0x{channel[0]:02X} type 0x{channel[1]:02X} at byte "
                    f"{position}: the rest of the payload is ignored"
                )
                break
            key, read = known
            try:
                values[key] = read(reader)
            except PayloadError:
                raise PayloadError(
                    f"payload too short: {key} at byte {reader.pos} is cut off"
                ) from None
        return values


BATTERY: Channel = ("battery", uint8)
TEMPERATURE: Channel = ("temperature", int16_tenths)
HUMIDITY: Channel = ("humidity", scaled(uint8, 2))


class EM300TH(MilesightDecoder):
    name = "milesight-em300-th"
    description = "Milesight EM300-TH temperature and humidity sensor"
    channels: ClassVar[dict[tuple[int, int], Channel]] = {
        (0x01, 0x75): BATTERY,
        (0x03, 0x67): TEMPERATURE,
        (0x04, 0x68): HUMIDITY,
    }
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "battery": units.BATTERY_LEVEL,
        "temperature": units.AIR_TEMPERATURE,
        "humidity": units.RELATIVE_HUMIDITY,
    }


class EM310UDL(MilesightDecoder):
    name = "milesight-em310-udl"
    description = "Milesight EM310-UDL ultrasonic distance / level sensor"
    channels: ClassVar[dict[tuple[int, int], Channel]] = {
        (0x01, 0x75): BATTERY,
        (0x03, 0x82): ("distance", uint16),
        (0x04, 0x00): ("tilt", flag("tilt", "normal")),
    }
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "battery": units.BATTERY_LEVEL,
        "distance": units.DISTANCE_MM,
    }


class AM307(MilesightDecoder):
    name = "milesight-am307"
    description = "Milesight AM307 / AM319 indoor ambience monitoring sensor"
    channels: ClassVar[dict[tuple[int, int], Channel]] = {
        (0x01, 0x75): BATTERY,
        (0x03, 0x67): TEMPERATURE,
        (0x04, 0x68): HUMIDITY,
        (0x05, 0x00): ("pir", flag("trigger", "idle")),
        (0x06, 0xCB): ("light_level", uint8),
        (0x07, 0x7D): ("co2", uint16),
        (0x08, 0x7D): ("tvoc", uint16),
        (0x09, 0x73): ("pressure", scaled(uint16, 10)),
        (0x0A, 0x7D): ("hcho", scaled(uint16, 100)),
        (0x0B, 0x7D): ("pm2_5", uint16),
        (0x0C, 0x7D): ("pm10", uint16),
        (0x0D, 0x7D): ("o3", scaled(uint16, 100)),
        (0x0E, 0x01): ("beep", flag("yes", "no")),
    }
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "battery": units.BATTERY_LEVEL,
        "temperature": units.AIR_TEMPERATURE,
        "humidity": units.RELATIVE_HUMIDITY,
        "light_level": FieldInfo("Light level", "{level}", "level 0–5"),
        "co2": units.CO2,
        "tvoc": FieldInfo("TVOC level", "{IAQ}", "indoor air quality index"),
        "pressure": units.PRESSURE_HPA,
        "hcho": FieldInfo("Formaldehyde concentration", "mg/m³", "milligram per cubic metre"),
        "pm2_5": units.pm_mass("2.5"),
        "pm10": units.pm_mass("10"),
        "o3": FieldInfo("Ozone concentration", "ppm", "parts per million"),
    }
