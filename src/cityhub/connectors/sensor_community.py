"""sensor.community (formerly luftdaten.info): citizen air-quality and climate sensors.

``/airrohr/v1/filter/box=lat1,lon1,lat2,lon2`` lists the measurements of the last minutes in
a bounding box, values as text, times in UTC without a zone. Each sensor location is a place;
PM10 (``P1``), PM2.5 (``P2``), temperature and humidity of each of its sensors are series.

Two kinds of values are not published as truth: readings of indoor sensors (left out
unless ``include_indoor``, then marked in resultQuality), and readings at the particulate
sensor's limit, 999.9 µg/m³, which mean "saturated, e.g. by fog", not a measured value.
They are counted as flagged; ``keep_flagged`` stores them with their flag instead.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from cityhub.connectors.base import (
    Connector,
    Harvest,
    Options,
    Place,
    Reading,
    Series,
    SourceError,
)
from cityhub.connectors.context import RunContext

BOX_URL = "https://data.sensor.community/airrohr/v1/filter/box="
SATURATED = 999.9
#: CF standard names, the vocabulary of environmental quantities.
_CF = "http://vocab.nerc.ac.uk/standard_name/"
_AEROSOL = "ambient_aerosol_particles_in_air/"
INDOOR = "indoor sensor: not representative of outdoor air"
SATURATION = "saturated: the sensor's upper limit (999.9), not a measured value"

_MICROGRAMS = {
    "name": "microgram per cubic metre",
    "symbol": "µg/m³",
    "definition": "http://qudt.org/vocab/unit/MicroGM-PER-M3",
}
_QUANTITIES: dict[str, tuple[str, dict[str, str], str]] = {
    "P1": (
        "PM10",
        _MICROGRAMS,
        _CF + "mass_concentration_of_pm10_ambient_aerosol_particles_in_air/",
    ),
    "P2": (
        "PM2.5",
        _MICROGRAMS,
        _CF + "mass_concentration_of_pm2p5_ambient_aerosol_particles_in_air/",
    ),
    "temperature": (
        "Lufttemperatur (air temperature)",
        {
            "name": "degree Celsius",
            "symbol": "°C",
            "definition": "http://qudt.org/vocab/unit/DEG_C",
        },
        _CF + "air_temperature/",
    ),
    "humidity": (
        "Relative Luftfeuchte (relative humidity)",
        {"name": "percent", "symbol": "%", "definition": "http://qudt.org/vocab/unit/PERCENT"},
        _CF + "relative_humidity/",
    ),
}
_PARTICLES = frozenset({"P1", "P2"})


class SensorCommunityOptions(Options):
    box: list[float] | None = Field(
        None,
        description="Bounding box [south, west, north, east] in degrees (WGS 84), e.g. "
        "[51.10, 6.98, 51.22, 7.16] around Solingen.",
    )
    include_indoor: bool = Field(False, description="Keep indoor sensors, marked as such.")
    keep_flagged: bool = Field(False, description="Store saturated readings, marked as such.")

    @field_validator("box")
    @classmethod
    def _box(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        if len(value) != 4:
            raise ValueError("give four numbers: [south, west, north, east]")
        south, west, north, east = value
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValueError("south must lie below north and west left of east, in degrees")
        return value


class SensorCommunity(Connector):
    options_model = SensorCommunityOptions
    options: SensorCommunityOptions
    missing_source = "give a 'box' [south, west, north, east] or a 'url'"
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Luftqualität (sensor.community)",
        "description": "Particulate matter, temperature and humidity measured by citizens' "
        "sensors of the sensor.community network.",
        # No licence here: the network publishes under the ODbL, which a DCAT-AP.de catalog
        # cannot name; the operator creates the dataset with the licence they settle on.
        "keywords": ["Feinstaub", "Luftqualität", "Citizen Science"],
        "themes": ["ENVI"],
        "update_frequency": "5MIN",
    }
    collection_title: ClassVar[str | None] = "Luftmessstellen (sensor.community)"

    @property
    def urls(self) -> list[str]:
        box = self.options.box if hasattr(self, "options") else None
        default = BOX_URL + ",".join(f"{v:g}" for v in box) if box else None
        return self.config.source_urls(default)

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        document = await context.get_json(url)
        if document is None:
            return None
        if not isinstance(document, list):
            raise SourceError(f"{url}: expected a list of measurements")
        harvest = Harvest(source=url)
        places: dict[str, Place] = {}
        for entry in document:
            if isinstance(entry, dict):
                self._add(entry, places, harvest)
        harvest.places = list(places.values())
        return harvest

    def _add(self, entry: dict[str, Any], places: dict[str, Place], harvest: Harvest) -> None:
        location = entry.get("location") or {}
        sensor = entry.get("sensor") or {}
        given = entry.get("sensordatavalues") or []
        values = [v for v in given if v.get("value_type") in _QUANTITIES]
        if "id" not in location or "id" not in sensor or not values:
            return
        indoor = bool(location.get("indoor"))
        if indoor and not self.options.include_indoor:
            harvest.flagged += len(values)
            return
        place = places.get(str(location["id"]))
        if place is None:
            place = places[str(location["id"])] = _place(location, indoor)
        time = _time(str(entry["timestamp"]))
        sensor_type = (sensor.get("sensor_type") or {}).get("name", "?")
        for value in values:
            reading = self._reading(value, time, indoor)
            if reading is None:
                harvest.flagged += 1
                continue
            if reading.quality:
                harvest.flagged += 1
            _series(place, str(value["value_type"]), sensor["id"], sensor_type).readings.append(
                reading
            )

    def _reading(self, value: dict[str, Any], time: datetime, indoor: bool) -> Reading | None:
        try:
            number = float(value["value"])
        except (TypeError, ValueError):
            return None
        flags = [INDOOR] if indoor else []
        if value["value_type"] in _PARTICLES and number >= SATURATED:
            if not self.options.keep_flagged:
                return None
            flags.append(SATURATION)
        return Reading(time, number, quality="; ".join(flags) or None)


def _place(location: dict[str, Any], indoor: bool) -> Place:
    geometry = None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        geometry = {
            "type": "Point",
            "coordinates": [float(location["longitude"]), float(location["latitude"])],
        }
    properties = {"country": location.get("country"), "indoor": indoor}
    return Place(
        key=str(location["id"]),
        name=f"sensor.community {location['id']}",
        geometry=geometry,
        properties={k: v for k, v in properties.items() if v is not None},
        description="A citizen's air-quality and climate sensor of the sensor.community network",
    )


def _series(place: Place, value_type: str, sensor_id: Any, sensor_type: str) -> Series:
    key = f"{value_type}:{sensor_id}"
    for series in place.series:
        if series.key == key:
            return series
    quantity, unit, definition = _QUANTITIES[value_type]
    series = Series(
        key=key,
        name=f"{quantity} ({sensor_type} #{sensor_id})",
        unit=unit,
        observed_property={"name": quantity, "definition": definition},
        properties={"sensorId": sensor_id, "sensorType": sensor_type, "valueType": value_type},
    )
    place.series.append(series)
    return series


def _time(text: str) -> datetime:
    """``2026-12-03 06:58:12``: UTC, as the API writes it."""
    time = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return time if time.tzinfo else time.replace(tzinfo=UTC)
