"""Dragino sensors: LHT65 temperature and humidity, LSE01 soil moisture and EC, LDDS75
ultrasonic distance. Fixed layouts, big-endian, on FPort 2."""

from __future__ import annotations

from typing import Any, ClassVar

from cityhub.lorawan.decoders import units
from cityhub.lorawan.decoders.base import FieldInfo
from cityhub.lorawan.decoders.binary import PayloadError, require_length, signed, to_fixed
from cityhub.lorawan.decoders.builtin import BuiltinDecoder


def _word(payload: bytes, at: int) -> int:
    return payload[at] << 8 | payload[at + 1]


def _battery_volts(payload: bytes) -> float:
    """Battery in the first two bytes: 14 bits of millivolts, two bits of status above."""
    return (_word(payload, 0) & 0x3FFF) / 1000


def _hundredths(value: int) -> float:
    """A signed 16-bit reading in hundredths, rounded as the vendor's codec rounds it."""
    return float(to_fixed(signed(value, 16) / 100, 2))


class LHT65(BuiltinDecoder):
    name = "dragino-lht65"
    description = "Dragino LHT65 temperature and humidity sensor (with external probe)"
    ports = frozenset({2})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "BatV": units.BATTERY_VOLTAGE,
        "TempC_SHT": units.AIR_TEMPERATURE,
        "Hum_SHT": units.RELATIVE_HUMIDITY,
        "TempC_DS": FieldInfo("Temperature (external probe)", "°C", "degree Celsius"),
        "ILL_lx": units.ILLUMINANCE,
        "ADC_V": FieldInfo("Voltage", "V", "volt"),
        "Exit_count": units.COUNT,
    }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        if len(payload) != 11:
            raise PayloadError(f"payload must be 11 bytes, got {len(payload)}")
        if payload[6] & 0x40:
            raise PayloadError("poll message replies (datalog) are not decoded")
        ext = payload[6] & 0x0F
        data: dict[str, Any] = {}
        if ext == 0x09:
            data["TempC_DS"] = _hundredths(_word(payload, 0))
            data["Bat_status"] = payload[4] >> 6
        else:
            data["BatV"] = _battery_volts(payload)
            data["Bat_status"] = payload[0] >> 6
        if ext != 0x0F:
            data["TempC_SHT"] = _hundredths(_word(payload, 2))
            data["Hum_SHT"] = float(to_fixed((_word(payload, 4) & 0xFFF) / 10, 1))
        if payload[6] & 0x80:
            data["No_connect"] = "Sensor no connection"
        data.update(_external(ext, payload))
        return data


def _external(ext: int, payload: bytes) -> dict[str, Any]:
    """What the external sensor (or the work mode) in byte 6 adds, from bytes 7–10."""
    word = _word(payload, 7)
    long = signed(int.from_bytes(payload[7:11], "big"), 32)
    if ext == 0:
        return {"Ext_sensor": "No external sensor"}
    if ext == 1:
        return {"Ext_sensor": "Temperature Sensor", "TempC_DS": _hundredths(word)}
    if ext == 4:
        return {
            "Work_mode": "Interrupt Sensor send",
            "Exti_pin_level": "High" if payload[7] else "Low",
            "Exti_status": "True" if payload[8] else "False",
        }
    if ext == 5:
        return {"Work_mode": "Illumination Sensor", "ILL_lx": word}
    if ext == 6:
        return {"Work_mode": "ADC Sensor", "ADC_V": word / 1000}
    if ext == 7:
        return {"Work_mode": "Interrupt Sensor count", "Exit_count": word}
    if ext == 8:
        return {"Work_mode": "Interrupt Sensor count", "Exit_count": long}
    if ext == 9:
        return {"Work_mode": "DS18B20 & timestamp", "Systimestamp": long}
    if ext == 15:
        probe_id = payload[2:6] + payload[7:11]
        return {"Work_mode": "DS18B20ID", "ID": "".join(f"{b:02x} " for b in probe_id)}
    return {}


class LSE01(BuiltinDecoder):
    name = "dragino-lse01"
    description = "Dragino LSE01 soil moisture, temperature and conductivity sensor"
    ports = frozenset({2})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {
        "Bat": units.BATTERY_VOLTAGE,
        "TempC_DS18B20": FieldInfo("Temperature (external probe)", "°C", "degree Celsius"),
        "water_SOIL": FieldInfo("Soil moisture", "%", "percent"),
        "temp_SOIL": units.SOIL_TEMPERATURE,
        "conduct_SOIL": FieldInfo("Soil electrical conductivity", "uS/cm", "microsiemens per cm"),
    }

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        require_length(payload, 10, "LSE01")
        soil_temperature = _word(payload, 6)
        if soil_temperature & 0x8000:
            # The vendor's codec subtracts 0xFFFF (not 0x10000): kept for equal results.
            soil_temperature -= 0xFFFF
        return {
            "Bat": _battery_volts(payload),
            "TempC_DS18B20": to_fixed(signed(_word(payload, 2), 16) / 10, 1),
            "water_SOIL": to_fixed(_word(payload, 4) / 100, 2),
            "temp_SOIL": to_fixed(soil_temperature / 100, 2),
            "conduct_SOIL": _word(payload, 8),
        }


class LDDS75(BuiltinDecoder):
    name = "dragino-ldds75"
    description = "Dragino LDDS75 ultrasonic distance sensor"
    ports = frozenset({2})
    FIELDS: ClassVar[dict[str, FieldInfo]] = {"distance": units.DISTANCE_MM}

    def decode_data(self, f_port: int, payload: bytes, warnings: list[str]) -> dict[str, Any]:
        if len(payload) != 5:
            return {"distance": "No Sensor"}
        distance = _word(payload, 2)
        return {
            "value": distance,
            "distance": distance if distance >= 20 else "Invalid Reading",
        }
