"""Decentlab DL-series: Decentlab's generic protocol (version 2) with a sensor table per model.

A message is the protocol version, the device id and a flag word (16 bits each after the
version byte), then, for each sensor whose flag bit is set (bit 0 first), that sensor's
16-bit words. Each model declares its sensors and how the words become values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import PayloadError, Reader
from cityhub.lorawan.decoders.builtin import BuiltinDecoder

PROTOCOL_VERSION = 2


@dataclass(frozen=True)
class Value:
    """One decoded value: its key, its display name, how it is computed from the sensor's
    words, its unit as Decentlab writes it, and what it measures."""

    key: str
    display_name: str
    convert: Callable[[Sequence[int]], float]
    unit: str | None = None
    field: FieldInfo | None = None


@dataclass(frozen=True)
class Sensor:
    words: int
    values: tuple[Value, ...]


def _battery() -> Sensor:
    return Sensor(
        1,
        (
            Value(
                "battery_voltage",
                "Battery voltage",
                lambda x: x[0] / 1000,
                "V",
                units.BATTERY_VOLTAGE,
            ),
        ),
    )


class DecentlabDecoder(BuiltinDecoder):
    """The generic protocol; subclasses declare ``sensors``."""

    sensors: ClassVar[tuple[Sensor, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.FIELDS = {
            value.key: value.field
            for sensor in cls.sensors
            for value in sensor.values
            if value.field is not None
        }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        reader = Reader(payload)
        version = reader.uint(1, "protocol version")
        if version != PROTOCOL_VERSION:
            raise PayloadError(f"protocol version {version} doesn't match v2")
        result: dict[str, Any] = {
            "protocol_version": version,
            "device_id": reader.uint(2, "device id"),
        }
        flags = reader.uint(2, "flags")
        for sensor in self.sensors:
            if flags & 1:
                words = [reader.uint(2, sensor.values[0].key) for _ in range(sensor.words)]
                for value in sensor.values:
                    result[value.key] = _entry(value, words)
            flags >>= 1
        return result


def _entry(value: Value, words: Sequence[int]) -> dict[str, Any]:
    entry: dict[str, Any] = {"displayName": value.display_name, "value": value.convert(words)}
    if value.unit is not None:
        entry["unit"] = value.unit
    return entry


class DLSHT35(DecentlabDecoder):
    name = "decentlab-dl-sht35"
    description = "Decentlab DL-SHT35 air temperature and humidity sensor"
    sensors = (
        Sensor(
            2,
            (
                Value(
                    "air_temperature",
                    "Air temperature",
                    lambda x: 175 * x[0] / 65535 - 45,
                    "°C",
                    units.AIR_TEMPERATURE,
                ),
                Value(
                    "air_humidity",
                    "Air humidity",
                    lambda x: 100 * x[1] / 65535,
                    "%",
                    units.RELATIVE_HUMIDITY,
                ),
            ),
        ),
        _battery(),
    )


class DLMBX(DecentlabDecoder):
    name = "decentlab-dl-mbx"
    description = "Decentlab DL-MBX ultrasonic distance / level sensor"
    sensors = (
        Sensor(
            2,
            (
                Value("distance", "Distance", lambda x: x[0], "mm", units.DISTANCE_MM),
                Value(
                    "number_of_valid_samples",
                    "Number of valid samples",
                    lambda x: x[1],
                    None,
                    FieldInfo("Number of valid samples", "{count}", "count"),
                ),
            ),
        ),
        _battery(),
    )


_MASS = "µg⋅m⁻³"
_NUMBER = "1⋅cm⁻³"


class DLPM(DecentlabDecoder):
    name = "decentlab-dl-pm"
    description = (
        "Decentlab DL-PM particulate matter, air temperature, humidity and barometric "
        "pressure sensor"
    )
    sensors = (
        _battery(),
        Sensor(
            10,
            (
                Value(
                    "pm1_0_mass_concentration",
                    "PM1.0 mass concentration",
                    lambda x: x[0] / 10,
                    _MASS,
                    units.pm_mass("1.0"),
                ),
                Value(
                    "pm2_5_mass_concentration",
                    "PM2.5 mass concentration",
                    lambda x: x[1] / 10,
                    _MASS,
                    units.pm_mass("2.5"),
                ),
                Value(
                    "pm4_mass_concentration",
                    "PM4 mass concentration",
                    lambda x: x[2] / 10,
                    _MASS,
                    units.pm_mass("4"),
                ),
                Value(
                    "pm10_mass_concentration",
                    "PM10 mass concentration",
                    lambda x: x[3] / 10,
                    _MASS,
                    units.pm_mass("10"),
                ),
                Value(
                    "typical_particle_size",
                    "Typical particle size",
                    lambda x: x[4],
                    "nm",
                    FieldInfo("Typical particle size", "nm", "nanometre"),
                ),
                Value(
                    "pm0_5_number_concentration",
                    "PM0.5 number concentration",
                    lambda x: x[5] / 10,
                    _NUMBER,
                    units.pm_number("0.5"),
                ),
                Value(
                    "pm1_0_number_concentration",
                    "PM1.0 number concentration",
                    lambda x: x[6] / 10,
                    _NUMBER,
                    units.pm_number("1.0"),
                ),
                Value(
                    "pm2_5_number_concentration",
                    "PM2.5 number concentration",
                    lambda x: x[7] / 10,
                    _NUMBER,
                    units.pm_number("2.5"),
                ),
                Value(
                    "pm4_number_concentration",
                    "PM4 number concentration",
                    lambda x: x[8] / 10,
                    _NUMBER,
                    units.pm_number("4"),
                ),
                Value(
                    "pm10_number_concentration",
                    "PM10 number concentration",
                    lambda x: x[9] / 10,
                    _NUMBER,
                    units.pm_number("10"),
                ),
            ),
        ),
        Sensor(
            2,
            (
                Value(
                    "air_temperature",
                    "Air temperature",
                    lambda x: 175.72 * x[0] / 65536 - 46.85,
                    "°C",
                    units.AIR_TEMPERATURE,
                ),
                Value(
                    "air_humidity",
                    "Air humidity",
                    lambda x: 125 * x[1] / 65536 - 6,
                    "%",
                    units.RELATIVE_HUMIDITY,
                ),
            ),
        ),
        Sensor(
            1,
            (
                Value(
                    "barometric_pressure",
                    "Barometric pressure",
                    lambda x: x[0] * 2,
                    "Pa",
                    units.PRESSURE_PA,
                ),
            ),
        ),
    )


class DLLP8P(DecentlabDecoder):
    name = "decentlab-dl-lp8p"
    description = "Decentlab DL-LP8P CO2, air temperature, humidity and barometric pressure sensor"
    sensors = (
        Sensor(
            2,
            (
                Value(
                    "air_temperature",
                    "Air temperature",
                    lambda x: 175.72 * x[0] / 65536 - 46.85,
                    "°C",
                    units.AIR_TEMPERATURE,
                ),
                Value(
                    "air_humidity",
                    "Air humidity",
                    lambda x: 125 * x[1] / 65536 - 6,
                    "%",
                    units.RELATIVE_HUMIDITY,
                ),
            ),
        ),
        Sensor(
            2,
            (
                Value(
                    "barometer_temperature",
                    "Barometer temperature",
                    lambda x: (x[0] - 5000) / 100,
                    "°C",
                    units.DEVICE_TEMPERATURE,
                ),
                Value(
                    "barometric_pressure",
                    "Barometric pressure",
                    lambda x: x[1] * 2,
                    "Pa",
                    units.PRESSURE_PA,
                ),
            ),
        ),
        Sensor(
            8,
            (
                Value(
                    "co2_concentration",
                    "CO2 concentration",
                    lambda x: x[0] - 32768,
                    "ppm",
                    units.CO2,
                ),
                Value(
                    "co2_concentration_lpf",
                    "CO2 concentration LPF",
                    lambda x: x[1] - 32768,
                    "ppm",
                    FieldInfo("CO2 concentration (low-pass filtered)", "ppm", "parts per million"),
                ),
                Value(
                    "co2_sensor_temperature",
                    "CO2 sensor temperature",
                    lambda x: (x[2] - 32768) / 100,
                    "°C",
                    FieldInfo("CO2 sensor temperature", "°C", "degree Celsius"),
                ),
                Value(
                    "capacitor_voltage_1",
                    "Capacitor voltage 1",
                    lambda x: x[3] / 1000,
                    "V",
                    FieldInfo("Capacitor voltage 1", "V", "volt"),
                ),
                Value(
                    "capacitor_voltage_2",
                    "Capacitor voltage 2",
                    lambda x: x[4] / 1000,
                    "V",
                    FieldInfo("Capacitor voltage 2", "V", "volt"),
                ),
                Value("co2_sensor_status", "CO2 sensor status", lambda x: x[5]),
                Value("raw_ir_reading", "Raw IR reading", lambda x: x[6]),
                Value("raw_ir_reading_lpf", "Raw IR reading LPF", lambda x: x[7]),
            ),
        ),
        _battery(),
    )
