"""What the built-in decoders' fields measure, declared once and shared."""

from __future__ import annotations

from cityhub.lorawan.decoders.base import FieldInfo

AIR_TEMPERATURE = FieldInfo("Air temperature", "°C", "degree Celsius")
TEMPERATURE = FieldInfo("Temperature", "°C", "degree Celsius")
DEVICE_TEMPERATURE = FieldInfo("Device temperature", "°C", "degree Celsius")
SOIL_TEMPERATURE = FieldInfo("Soil temperature", "°C", "degree Celsius")
RELATIVE_HUMIDITY = FieldInfo("Relative humidity", "%", "percent")
BATTERY_VOLTAGE = FieldInfo("Battery voltage", "V", "volt")
BATTERY_MILLIVOLT = FieldInfo("Battery voltage", "mV", "millivolt")
BATTERY_LEVEL = FieldInfo("Battery level", "%", "percent")
ILLUMINANCE = FieldInfo("Illuminance", "lx", "lux")
CO2 = FieldInfo("CO2 concentration", "ppm", "parts per million")
TVOC_PPB = FieldInfo("TVOC concentration", "ppb", "parts per billion")
DISTANCE_MM = FieldInfo("Distance", "mm", "millimetre")
PRESSURE_HPA = FieldInfo("Air pressure", "hPa", "hectopascal")
PRESSURE_PA = FieldInfo("Air pressure", "Pa", "pascal")
MOTION_COUNT = FieldInfo("Motion count", "{count}", "count")
COUNT = FieldInfo("Count", "{count}", "count")
VOLTAGE_MV = FieldInfo("Voltage", "mV", "millivolt")
PM_MASS = "µg/m³"
PM_MASS_NAME = "microgram per cubic metre"
PM_NUMBER = "1/cm³"
PM_NUMBER_NAME = "per cubic centimetre"


def pm_mass(size: str) -> FieldInfo:
    return FieldInfo(f"PM{size} mass concentration", PM_MASS, PM_MASS_NAME)


def pm_number(size: str) -> FieldInfo:
    return FieldInfo(f"PM{size} number concentration", PM_NUMBER, PM_NUMBER_NAME)
