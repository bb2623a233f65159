"""A small, self-made demo dataset for Solingen, as plain SensorThings JSON.

The hub should be explorable right after installation, without real sensors or a network
connection, so this module describes a handful of plausible devices in Solingen and generates
their readings on demand. It is pure data: loading it into a store is the caller's job.

Values are deterministic. Every generated reading depends only on its datastream and its time
(plus, for battery voltages, the requested start), never on global random state, so reloading the
same window yields the same observations.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEMO_DAYS", "DEMO_MARKER", "demo_observations", "demo_things", "weather_forecast"]

DEMO_MARKER = "cityhub-demo"
"""Value of ``properties.demo`` on every demo Thing, so a loader can detect an earlier load."""

DEMO_DAYS = 3
"""How many days of observations a loader should generate by default."""

_SEED = "cityhub-demo-solingen-v1"

_OBS_TYPE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
_MEASUREMENT = _OBS_TYPE + "OM_Measurement"
_TRUTH = _OBS_TYPE + "OM_TruthObservation"

_QUDT_UNIT = "http://qudt.org/vocab/unit/"
_CF_NAME = "http://vocab.nerc.ac.uk/standard_name/"
_QUDT_KIND = "http://qudt.org/vocab/quantitykind/"
_LOCAL_DEF = "https://example.org/cityhub/def/observedProperty/"
_DATASHEETS = "https://example.org/cityhub/demo/sensors/"

# Solingen reference point (city centre) for the sun position.
_LAT = 51.171
_LON = 7.083

_DAY = timedelta(days=1)


def _local_zone() -> tzinfo:
    """Solingen's civil time zone; a fixed CET offset where no tz database is installed."""
    try:
        return ZoneInfo("Europe/Berlin")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=1), "CET")


_LOCAL = _local_zone()


# --------------------------------------------------------------------------------------------
# Shared entity descriptions (identical dicts, so a loader can dedupe them by name)
# --------------------------------------------------------------------------------------------


def _unit(name: str, symbol: str, code: str) -> dict:
    return {"name": name, "symbol": symbol, "definition": _QUDT_UNIT + code}


# SensorThings 1.1: Datastreams without a unit (e.g. truth observations) carry null values.
_NO_UNIT: dict = {"name": None, "symbol": None, "definition": None}
_VOLT = _unit("Volt", "V", "V")
_CELSIUS = _unit("Grad Celsius", "°C", "DEG_C")
_PERCENT = _unit("Prozent", "%", "PERCENT")
_HECTOPASCAL = _unit("Hektopascal", "hPa", "HectoPA")
_METRE_PER_SECOND = _unit("Meter pro Sekunde", "m/s", "M-PER-SEC")
_MILLIMETRE = _unit("Millimeter", "mm", "MilliM")
_CENTIMETRE = _unit("Zentimeter", "cm", "CentiM")
_MICROGRAM_PER_M3 = _unit("Mikrogramm pro Kubikmeter", "µg/m³", "MicroGM-PER-M3")
_UV_INDEX_UNIT = _unit("UV-Index", "UVI", "UNITLESS")


def _sensor(name: str, description: str, document: str) -> dict:
    encoding = "application/pdf" if document.endswith(".pdf") else "text/html"
    return {
        "name": name,
        "description": description,
        "encodingType": encoding,
        "metadata": _DATASHEETS + document,
    }


_PARKING_SENSOR = _sensor(
    "LoRaWAN Stellplatzsensor",
    "Bodensensor (Magnetfeld + Radar) zur Stellplatzbelegung, LoRaWAN EU868, Lithium-Batterie",
    "lorawan-parking-sensor.pdf",
)
_WEATHER_SENSOR = _sensor(
    "Kompakt-Wetterstation",
    "Ultraschall-Wetterstation mit Temperatur, Feuchte, Luftdruck, Wind und Niederschlag",
    "compact-weather-station.pdf",
)
_LAMP_CONTROLLER = _sensor(
    "Smart-Lighting-Controller",
    "Leuchtensteuerung mit Dimmung, Dämmerungsschaltung und UV-Sensor im Mastkopf",
    "smart-lighting-controller.html",
)
_GAUGE_SENSOR = _sensor(
    "Radar-Pegelsonde",
    "Berührungslose Radar-Füllstandsmessung mit Wassertemperaturfühler",
    "radar-level-gauge.pdf",
)
_AIR_SENSOR = _sensor(
    "Low-Cost Luftqualitätsmonitor",
    "Optischer Feinstaubzähler (PM10, PM2.5) und elektrochemische NO2-Zelle",
    "air-quality-monitor.pdf",
)


def _observed_property(name: str, definition: str, description: str) -> dict:
    return {"name": name, "definition": definition, "description": description}


_OCCUPANCY = _observed_property(
    "Stellplatzbelegung",
    _LOCAL_DEF + "ParkingBayOccupancy",
    "Ob ein Fahrzeug auf dem Stellplatz steht (true = belegt)",
)
_BATTERY_VOLTAGE = _observed_property(
    "Batteriespannung",
    _QUDT_KIND + "Voltage",
    "Spannung der Gerätebatterie, Grundlage für die Wartungsplanung",
)
_AIR_TEMPERATURE = _observed_property(
    "Lufttemperatur", _CF_NAME + "air_temperature/", "Lufttemperatur in 2 m Höhe"
)
_RELATIVE_HUMIDITY = _observed_property(
    "Relative Luftfeuchte", _CF_NAME + "relative_humidity/", "Relative Feuchte der Luft"
)
_AIR_PRESSURE = _observed_property(
    "Luftdruck", _CF_NAME + "air_pressure/", "Luftdruck auf Stationshöhe"
)
_WIND_SPEED = _observed_property(
    "Windgeschwindigkeit", _CF_NAME + "wind_speed/", "Mittlere Windgeschwindigkeit (10 min)"
)
_PRECIPITATION = _observed_property(
    "Niederschlag", _CF_NAME + "precipitation_amount/", "Niederschlagsmenge im Messintervall"
)
_UV_INDEX = _observed_property(
    "UV-Index", _LOCAL_DEF + "UVIndex", "UV-Index nach WHO, aus der erythemwirksamen Bestrahlung"
)
_LAMP_LEVEL = _observed_property(
    "Leuchtstärke", _LOCAL_DEF + "LampDimmingLevel", "Dimmstufe der Straßenleuchte"
)
_WATER_LEVEL = _observed_property(
    "Wasserstand", _LOCAL_DEF + "RiverWaterLevel", "Wasserstand über Pegelnullpunkt"
)
_WATER_TEMPERATURE = _observed_property(
    "Wassertemperatur", _LOCAL_DEF + "RiverWaterTemperature", "Temperatur des Flusswassers"
)
_PM10 = _observed_property(
    "PM10",
    _CF_NAME + "mass_concentration_of_pm10_ambient_aerosol_particles_in_air/",
    "Feinstaub mit aerodynamischem Durchmesser bis 10 µm",
)
_PM2P5 = _observed_property(
    "PM2.5",
    _CF_NAME + "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air/",
    "Feinstaub mit aerodynamischem Durchmesser bis 2,5 µm",
)
_NO2 = _observed_property(
    "NO2",
    _CF_NAME + "mass_concentration_of_nitrogen_dioxide_in_air/",
    "Stickstoffdioxid in der Außenluft",
)


# --------------------------------------------------------------------------------------------
# Demo devices
# --------------------------------------------------------------------------------------------


@dataclass
class _Walk:
    """Context for one UTC day of one stream: the requested window and the day's carried state."""

    window_start: datetime
    memory: dict[str, object] = field(default_factory=dict)


_Reading = Callable[[datetime, random.Random, _Walk], object]


@dataclass(frozen=True)
class _Stream:
    """One demo Datastream: its description plus how to generate its readings."""

    key: str
    name: str
    description: str
    unit: dict
    observation_type: str
    sensor: dict
    observed_property: dict
    step: timedelta
    reading: _Reading


@dataclass(frozen=True)
class _Device:
    """One demo Thing at one place."""

    key: str
    name: str
    description: str
    location_name: str
    location_description: str
    lon: float
    lat: float
    properties: dict
    streams: tuple[_Stream, ...]


def _thing_body(device: _Device) -> dict:
    """Render a device as a deep-insert body for POST /v1.1/Things."""
    return {
        "name": device.name,
        "description": device.description,
        "properties": {"demo": DEMO_MARKER, "demoKey": device.key, **device.properties},
        "Locations": [
            {
                "name": device.location_name,
                "description": device.location_description,
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [device.lon, device.lat]},
            }
        ],
        "Datastreams": [
            {
                "name": stream.name,
                "description": stream.description,
                "unitOfMeasurement": dict(stream.unit),
                "observationType": stream.observation_type,
                "properties": {"demoKey": stream.key},
                "Sensor": dict(stream.sensor),
                "ObservedProperty": dict(stream.observed_property),
            }
            for stream in device.streams
        ],
    }


def demo_things() -> list[dict]:
    """Deep-insert bodies for every demo Thing, ready to POST to ``/v1.1/Things``."""
    return [_thing_body(device) for device in _DEVICES]


def demo_observations(start: datetime, end: datetime) -> Iterator[tuple[str, datetime, object]]:
    """Yield ``(datastream demoKey, phenomenonTime, result)`` for readings in ``[start, end)``.

    Readings are grouped by datastream and ordered by time within each one. Times are aware UTC
    datetimes aligned to the stream's interval.
    """
    start, end = _as_utc(start, "start"), _as_utc(end, "end")
    if end <= start:
        return
    for device in _DEVICES:
        for stream in device.streams:
            yield from _stream_readings(stream, start, end)


def _as_utc(moment: datetime, label: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{label} must be timezone-aware")
    return moment.astimezone(UTC)


def _stream_readings(
    stream: _Stream, start: datetime, end: datetime
) -> Iterator[tuple[str, datetime, object]]:
    """Walk whole UTC days so each day's random sequence is the same for any requested window."""
    day = datetime.combine(start.date(), datetime.min.time(), UTC)
    while day < end:
        rng = random.Random(f"{_SEED}|{stream.key}|{day.date().isoformat()}")
        walk = _Walk(window_start=start)
        moment = day
        day_end = day + _DAY
        while moment < day_end:
            result = stream.reading(moment, rng, walk)
            if start <= moment < end:
                yield stream.key, moment, result
            moment += stream.step
        day = day_end


# --------------------------------------------------------------------------------------------
# Weather scenario shared by all streams (so rain, humidity, UV and river level agree)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DayWeather:
    """The character of one day: mean temperature, daily swing, cloudiness and rain spells."""

    mean_temperature: float
    temperature_swing: float
    cloud_cover: float  # 0 (clear) .. 1 (overcast)
    rain_spells: tuple[tuple[datetime, datetime, float], ...]  # start, end, intensity mm/h


@cache
def _day_weather(day: date) -> _DayWeather:
    rng = random.Random(f"{_SEED}|weather|{day.isoformat()}")
    spells = []
    for _ in range(rng.choices((0, 1, 2), weights=(3, 4, 2))[0]):
        begin = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            minutes=10 * rng.randrange(0, 144)
        )
        length = timedelta(minutes=10 * rng.randrange(6, 30))
        spells.append((begin, begin + length, round(rng.uniform(0.3, 1.5), 2)))
    rainy = bool(spells)
    return _DayWeather(
        mean_temperature=rng.uniform(4.5, 6.5),
        temperature_swing=rng.uniform(1.0, 1.7) if rainy else rng.uniform(1.7, 2.3),
        cloud_cover=rng.uniform(0.7, 1.0) if rainy else rng.uniform(0.2, 0.8),
        rain_spells=tuple(spells),
    )


def _rain_spells_near(
    moment: datetime, days_back: int
) -> Iterator[tuple[datetime, datetime, float]]:
    today = moment.date()
    for offset in range(days_back, -1, -1):
        yield from _day_weather(today - timedelta(days=offset)).rain_spells


def _rain_rate(moment: datetime) -> float:
    """Rain intensity in mm/h at a moment (spells may run past midnight)."""
    return sum(
        rate for begin, finish, rate in _rain_spells_near(moment, 1) if begin <= moment < finish
    )


def _blend(moment: datetime, attribute: str) -> float:
    """A day's value applies at noon UTC; blend linearly between neighbouring days."""
    noon = datetime.combine(moment.date(), datetime.min.time(), UTC) + timedelta(hours=12)
    other = noon + (_DAY if moment >= noon else -_DAY)
    weight = abs((moment - noon).total_seconds()) / 86400
    here = getattr(_day_weather(noon.date()), attribute)
    there = getattr(_day_weather(other.date()), attribute)
    return here + (there - here) * weight


def _air_temperature(moment: datetime) -> float:
    hours = _local_hours(moment)
    # Coolest around 07:30 local time, warmest around 14:30.
    cycle = -math.cos(2 * math.pi * (hours - 2.5) / 24)
    value = _blend(moment, "mean_temperature") + _blend(moment, "temperature_swing") * cycle
    if _rain_rate(moment) > 0:
        value -= 0.4
    return value


def _pressure(moment: datetime) -> float:
    days = moment.timestamp() / 86400
    return (
        1013.0 + 9.0 * math.sin(2 * math.pi * days / 5.3) + 3.0 * math.sin(2 * math.pi * days / 1.7)
    )


def _local_hours(moment: datetime) -> float:
    local = moment.astimezone(_LOCAL)
    return local.hour + local.minute / 60


def _sun_elevation(moment: datetime) -> float:
    """Solar elevation over Solingen in degrees (accurate to well under a degree)."""
    day_of_year = moment.timetuple().tm_yday
    b = 2 * math.pi * (day_of_year - 81) / 364
    equation_of_time = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
    declination = math.radians(23.44) * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    utc_hours = moment.hour + moment.minute / 60 + moment.second / 3600
    solar_hours = utc_hours + _LON / 15 + equation_of_time / 60
    hour_angle = math.radians(15 * (solar_hours - 12))
    lat = math.radians(_LAT)
    sine = math.sin(lat) * math.sin(declination) + math.cos(lat) * math.cos(declination) * math.cos(
        hour_angle
    )
    return math.degrees(math.asin(max(-1.0, min(1.0, sine))))


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


# --------------------------------------------------------------------------------------------
# Reading generators
# --------------------------------------------------------------------------------------------


def _occupancy_probability(moment: datetime, busyness: float) -> float:
    """Chance that a city-centre bay is taken, by local hour and weekday."""
    local = moment.astimezone(_LOCAL)
    hours = local.hour + local.minute / 60
    weekday = local.weekday()
    if weekday == 6:  # Sunday: shops closed
        peak = 0.35
    elif weekday == 5:  # Saturday: shopping day
        peak = 0.95
    else:
        peak = 0.82
    if hours < 6 or hours >= 22:
        base = 0.12
    elif hours < 9:
        base = 0.12 + (peak - 0.12) * (hours - 6) / 3
    elif hours < 18.5:
        base = peak
    else:
        base = peak - (peak - 0.2) * (hours - 18.5) / 3.5
    return _clamp(base * busyness, 0.02, 0.97)


def _occupancy_reading(busyness: float) -> _Reading:
    """A bay that keeps its state for a while: cars stay about 1.5 h on average."""
    leave = 0.16  # per 15-minute slot

    def reading(moment: datetime, rng: random.Random, walk: _Walk) -> object:
        target = _occupancy_probability(moment, busyness)
        roll = rng.random()
        previous = walk.memory.get("occupied")
        if previous is None:  # first slot of the day
            occupied = roll < target
        elif previous:
            occupied = roll >= leave
        else:
            occupied = roll < min(0.95, leave * target / (1 - target))
        walk.memory["occupied"] = occupied
        return occupied

    return reading


def _battery_reading(offset: float) -> _Reading:
    """Lithium cells sag early, then settle on a plateau; cold lowers the voltage a little."""

    def reading(moment: datetime, rng: random.Random, walk: _Walk) -> object:
        days = (moment - walk.window_start).total_seconds() / 86400
        sag = 0.25 * (1 - math.exp(-days / 20))
        cold = 0.01 * _clamp(5.0 - _air_temperature(moment), 0.0, 5.0) / 5
        noise = rng.uniform(-0.004, 0.004)
        return round(3.6 - offset - sag - cold + noise, 2)

    return reading


def _temperature_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    return round(_air_temperature(moment) + rng.gauss(0, 0.15), 1)


def _humidity_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    temperature = _air_temperature(moment)
    value = 97 - 3.2 * (temperature - 2)
    if _rain_rate(moment) > 0:
        value += 6
    return round(_clamp(value + rng.gauss(0, 1.2), 55.0, 100.0), 1)


def _pressure_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    return round(_pressure(moment) + rng.gauss(0, 0.1), 1)


def _wind_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    hours = _local_hours(moment)
    daytime = 0.8 * math.sin(math.pi * _clamp((hours - 8) / 9, 0.0, 1.0))
    rain = 1.2 if _rain_rate(moment) > 0 else 0.0
    return round(_clamp(1.8 + daytime + rain + rng.gauss(0, 0.6), 0.0, 15.0), 1)


def _precipitation_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    rate = _rain_rate(moment)  # mm/h
    if rate == 0:
        return 0.0
    return round(rate / 6 * rng.uniform(0.5, 1.5), 2)


def _uv_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    elevation = _sun_elevation(moment)
    noise = rng.uniform(0.9, 1.1)
    if elevation <= 0:
        return 0.0
    clear_sky = 12.5 * math.sin(math.radians(elevation)) ** 2.42
    clouds = 1 - 0.7 * _blend(moment, "cloud_cover")
    return round(clear_sky * clouds * noise, 1)


def _lamp_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    """Dusk-to-dawn switching with a night-time dimming schedule."""
    elevation = _sun_elevation(moment)
    if elevation >= 0:
        return 0.0
    hours = _local_hours(moment)
    level = 40.0 if hours >= 23 or hours < 5 else 100.0
    if elevation > -4:  # civil twilight: ramp up
        level *= -elevation / 4
    return round(level, 1)


def _water_level(moment: datetime) -> float:
    """Base flow plus a delayed, decaying response to recent rain (peak about 8 h later)."""
    days = moment.timestamp() / 86400
    level = 66.0 + 3.0 * math.sin(2 * math.pi * days / 9.0)
    for begin, finish, rate in _rain_spells_near(moment, 3):
        if begin > moment:
            continue
        amount = rate * (finish - begin).total_seconds() / 3600  # mm
        lag = (moment - begin).total_seconds() / 3600
        tau = 8.0
        level += 2.6 * amount * (lag / tau) * math.exp(1 - lag / tau)
    return level


def _water_level_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    return round(_clamp(_water_level(moment) + rng.gauss(0, 0.3), 55.0, 95.0), 1)


def _water_temperature_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    hours = _local_hours(moment)
    day_mean = 6.4 + 0.25 * (_blend(moment, "mean_temperature") - 5.0)
    value = day_mean + 0.2 * math.sin(2 * math.pi * (hours - 10) / 24)
    return round(value + rng.gauss(0, 0.05), 1)


def _traffic(moment: datetime) -> float:
    """Relative traffic at the Schlagbaum junction: rush-hour peaks on weekdays."""
    local = moment.astimezone(_LOCAL)
    hours = local.hour + local.minute / 60
    morning = math.exp(-(((hours - 7.75) / 1.2) ** 2))
    evening = math.exp(-(((hours - 17.0) / 1.6) ** 2))
    daytime = 0.5 if 6 <= hours < 21 else 0.1
    weekend = 0.6 if local.weekday() >= 5 else 1.0
    return weekend * (daytime + morning + 0.9 * evening)


def _dispersion(moment: datetime) -> float:
    """Lower when rain washes particles out or the evening is cold and still."""
    factor = 0.6 if _rain_rate(moment) > 0 else 1.0
    if _air_temperature(moment) < 3.5:
        factor *= 1.15
    return factor


def _pm10_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    value = (12 + 9 * _traffic(moment)) * _dispersion(moment) * rng.uniform(0.85, 1.15)
    return round(value, 1)


def _pm2p5_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    value = (7 + 5 * _traffic(moment)) * _dispersion(moment) * rng.uniform(0.85, 1.15)
    return round(value, 1)


def _no2_reading(moment: datetime, rng: random.Random, _walk: _Walk) -> object:
    value = (14 + 22 * _traffic(moment)) * _dispersion(moment) * rng.uniform(0.85, 1.15)
    return round(value, 1)


# --------------------------------------------------------------------------------------------
# Device catalogue
# --------------------------------------------------------------------------------------------

_MINUTES_10 = timedelta(minutes=10)
_MINUTES_15 = timedelta(minutes=15)
_MINUTES_30 = timedelta(minutes=30)
_HOURS_6 = timedelta(hours=6)


def _parking_device(
    key: str, place: str, bay: int, lon: float, lat: float, busyness: float, battery: float
) -> _Device:
    name = f"{place} Bucht {bay}"
    return _Device(
        key=key,
        name=name,
        description=f"LoRaWAN-Stellplatzsensor für Bucht {bay} am {place}",
        location_name=name,
        location_description=f"Kurzzeitparkplatz {place}, Solinger Innenstadt",
        lon=lon,
        lat=lat,
        properties={"category": "parking", "network": "LoRaWAN"},
        streams=(
            _Stream(
                key=f"{key}:occupancy",
                name=f"Belegung {name}",
                description="Belegt (true) oder frei (false), gemeldet alle 15 Minuten",
                unit=_NO_UNIT,
                observation_type=_TRUTH,
                sensor=_PARKING_SENSOR,
                observed_property=_OCCUPANCY,
                step=_MINUTES_15,
                reading=_occupancy_reading(busyness),
            ),
            _Stream(
                key=f"{key}:battery",
                name=f"Batteriespannung {name}",
                description="Batteriespannung des Sensors, alle 6 Stunden",
                unit=_VOLT,
                observation_type=_MEASUREMENT,
                sensor=_PARKING_SENSOR,
                observed_property=_BATTERY_VOLTAGE,
                step=_HOURS_6,
                reading=_battery_reading(battery),
            ),
        ),
    )


def _measurement(
    key: str,
    name: str,
    description: str,
    unit: dict,
    sensor: dict,
    observed_property: dict,
    step: timedelta,
    reading: _Reading,
) -> _Stream:
    return _Stream(
        key, name, description, unit, _MEASUREMENT, sensor, observed_property, step, reading
    )


def _build_devices() -> tuple[_Device, ...]:
    parking = (
        ("parking-neumarkt-1", "Parkplatz Neumarkt", 1, 7.08431, 51.17148, 1.00, 0.00),
        ("parking-neumarkt-2", "Parkplatz Neumarkt", 2, 7.08446, 51.17152, 0.95, 0.03),
        ("parking-neumarkt-3", "Parkplatz Neumarkt", 3, 7.08461, 51.17156, 0.90, 0.01),
        ("parking-muehlenplatz-1", "Mühlenplatz", 1, 7.08702, 51.16981, 0.90, 0.05),
        ("parking-muehlenplatz-2", "Mühlenplatz", 2, 7.08716, 51.16975, 0.85, 0.02),
        ("parking-muehlenplatz-3", "Mühlenplatz", 3, 7.08730, 51.16969, 0.80, 0.07),
    )
    devices = [_parking_device(*row) for row in parking]

    weather = "weather-rathaus"
    devices.append(
        _Device(
            key=weather,
            name="Wetterstation Rathaus",
            description="Wetterstation auf dem Dach des Rathauses am Walter-Scheel-Platz",
            location_name="Rathaus Solingen",
            location_description="Walter-Scheel-Platz, Dachfläche des Rathauses",
            lon=7.08375,
            lat=51.17256,
            properties={"category": "weather"},
            streams=(
                _measurement(
                    f"{weather}:air-temperature",
                    "Lufttemperatur Rathaus",
                    "Lufttemperatur, 10-Minuten-Werte",
                    _CELSIUS,
                    _WEATHER_SENSOR,
                    _AIR_TEMPERATURE,
                    _MINUTES_10,
                    _temperature_reading,
                ),
                _measurement(
                    f"{weather}:relative-humidity",
                    "Relative Luftfeuchte Rathaus",
                    "Relative Luftfeuchte, 10-Minuten-Werte",
                    _PERCENT,
                    _WEATHER_SENSOR,
                    _RELATIVE_HUMIDITY,
                    _MINUTES_10,
                    _humidity_reading,
                ),
                _measurement(
                    f"{weather}:air-pressure",
                    "Luftdruck Rathaus",
                    "Luftdruck auf Stationshöhe, 10-Minuten-Werte",
                    _HECTOPASCAL,
                    _WEATHER_SENSOR,
                    _AIR_PRESSURE,
                    _MINUTES_10,
                    _pressure_reading,
                ),
                _measurement(
                    f"{weather}:wind-speed",
                    "Windgeschwindigkeit Rathaus",
                    "Mittlere Windgeschwindigkeit, 10-Minuten-Werte",
                    _METRE_PER_SECOND,
                    _WEATHER_SENSOR,
                    _WIND_SPEED,
                    _MINUTES_10,
                    _wind_reading,
                ),
                _measurement(
                    f"{weather}:precipitation",
                    "Niederschlag Rathaus",
                    "Niederschlagssumme je 10 Minuten",
                    _MILLIMETRE,
                    _WEATHER_SENSOR,
                    _PRECIPITATION,
                    _MINUTES_10,
                    _precipitation_reading,
                ),
            ),
        )
    )

    lamp = "lamp-clemens-galerien"
    devices.append(
        _Device(
            key=lamp,
            name="Smarte Laterne Clemens-Galerien",
            description="Vernetzte LED-Straßenleuchte mit UV-Sensor vor den Clemens-Galerien",
            location_name="Clemens-Galerien",
            location_description="Mummstraße, Eingang Clemens-Galerien",
            lon=7.08290,
            lat=51.17012,
            properties={"category": "smart-lighting"},
            streams=(
                _measurement(
                    f"{lamp}:uv-index",
                    "UV-Index Clemens-Galerien",
                    "UV-Index (dimensionslos), alle 15 Minuten",
                    _UV_INDEX_UNIT,
                    _LAMP_CONTROLLER,
                    _UV_INDEX,
                    _MINUTES_15,
                    _uv_reading,
                ),
                _measurement(
                    f"{lamp}:brightness",
                    "Leuchtstärke Clemens-Galerien",
                    "Dimmstufe der Leuchte in Prozent der Nennleistung, alle 15 Minuten",
                    _PERCENT,
                    _LAMP_CONTROLLER,
                    _LAMP_LEVEL,
                    _MINUTES_15,
                    _lamp_reading,
                ),
            ),
        )
    )

    gauge = "gauge-wupper-glueder"
    devices.append(
        _Device(
            key=gauge,
            name="Pegel Wupper Glüder",
            description="Wasserstand und Wassertemperatur der Wupper bei Glüder",
            location_name="Wupperbrücke Glüder",
            location_description="Messstelle an der Wupper im Ortsteil Glüder",
            lon=7.12810,
            lat=51.13985,
            properties={"category": "hydrology", "river": "Wupper"},
            streams=(
                _measurement(
                    f"{gauge}:water-level",
                    "Wasserstand Wupper Glüder",
                    "Wasserstand über Pegelnullpunkt, alle 15 Minuten",
                    _CENTIMETRE,
                    _GAUGE_SENSOR,
                    _WATER_LEVEL,
                    _MINUTES_15,
                    _water_level_reading,
                ),
                _measurement(
                    f"{gauge}:water-temperature",
                    "Wassertemperatur Wupper Glüder",
                    "Wassertemperatur, alle 15 Minuten",
                    _CELSIUS,
                    _GAUGE_SENSOR,
                    _WATER_TEMPERATURE,
                    _MINUTES_15,
                    _water_temperature_reading,
                ),
            ),
        )
    )

    air = "air-schlagbaum"
    devices.append(
        _Device(
            key=air,
            name="Luftqualität Schlagbaum",
            description="Luftqualitätsmessung am Verkehrsknoten Schlagbaum",
            location_name="Kreuzung Schlagbaum",
            location_description="Verkehrsknoten Schlagbaum, Mast an der Kreuzung",
            lon=7.09810,
            lat=51.17790,
            properties={"category": "air-quality"},
            streams=(
                _measurement(
                    f"{air}:pm10",
                    "PM10 Schlagbaum",
                    "Feinstaub PM10, 30-Minuten-Mittel",
                    _MICROGRAM_PER_M3,
                    _AIR_SENSOR,
                    _PM10,
                    _MINUTES_30,
                    _pm10_reading,
                ),
                _measurement(
                    f"{air}:pm2p5",
                    "PM2.5 Schlagbaum",
                    "Feinstaub PM2.5, 30-Minuten-Mittel",
                    _MICROGRAM_PER_M3,
                    _AIR_SENSOR,
                    _PM2P5,
                    _MINUTES_30,
                    _pm2p5_reading,
                ),
                _measurement(
                    f"{air}:no2",
                    "NO2 Schlagbaum",
                    "Stickstoffdioxid, 30-Minuten-Mittel",
                    _MICROGRAM_PER_M3,
                    _AIR_SENSOR,
                    _NO2,
                    _MINUTES_30,
                    _no2_reading,
                ),
            ),
        )
    )
    return tuple(devices)


_DEVICES = _build_devices()


# --------------------------------------------------------------------------------------------
# Forecast
# --------------------------------------------------------------------------------------------


def weather_forecast(moment: datetime) -> dict[str, float]:
    """A forecast of the weather over Solingen for ``moment``, in Bright Sky's parameter names
    and units: the same weather scenario the station measures, with a forecast's own errors
    (deterministic per hour)."""
    moment = _as_utc(moment, "moment")
    rng = random.Random(f"{_SEED}|forecast|{moment.isoformat()}")
    walk = _Walk(window_start=moment)

    def value(reading: _Reading) -> float:
        result = reading(moment, rng, walk)
        assert isinstance(result, float)
        return result

    return {
        "temperature": value(_temperature_reading),
        "relative_humidity": value(_humidity_reading),
        "precipitation": round(_rain_rate(moment), 1),
        "wind_speed": round(3.6 * value(_wind_reading), 1),
        "pressure_msl": value(_pressure_reading),
        "cloud_cover": round(100 * _clamp(_blend(moment, "cloud_cover"), 0.0, 1.0)),
    }
