"""Bright Sky: the German weather service's (DWD) observations and MOSMIX forecasts for a
point, through ``https://api.brightsky.dev/weather``.

One request spans ``past_hours`` before and ``forecast_hours`` after now. Each hourly record
names its source, and each source its ``observation_type``: ``historical``, ``synop`` and
``current`` are observed, ``forecast`` is forecast. The two are kept apart — separate
Datastreams (``temperature`` and ``temperature:forecast``) — so a forecast is never shown as a
measurement. Both are revisable: a newer forecast for an hour, or a quality-checked value
replacing a preliminary one, replaces the result held for that hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, field_validator

from cityhub.connectors.base import Connector, Harvest, Options, Place, Reading, Series, SourceError
from cityhub.connectors.context import RunContext

WEATHER_URL = "https://api.brightsky.dev/weather"
_QUDT = "http://qudt.org/vocab/unit/"
#: CF standard names, the vocabulary of meteorological quantities.
_CF = "http://vocab.nerc.ac.uk/standard_name/"

#: parameter: (name, unit name, symbol, QUDT unit, CF standard name)
PARAMETERS: dict[str, tuple[str, str, str, str, str]] = {
    "temperature": ("Lufttemperatur", "degree Celsius", "°C", "DEG_C", "air_temperature"),
    "relative_humidity": ("Relative Luftfeuchte", "percent", "%", "PERCENT", "relative_humidity"),
    "precipitation": ("Niederschlag (1 h)", "millimetre", "mm", "MilliM", "precipitation_amount"),
    "wind_speed": (
        "Windgeschwindigkeit",
        "kilometre per hour",
        "km/h",
        "KiloM-PER-HR",
        "wind_speed",
    ),
    "wind_direction": ("Windrichtung", "degree", "°", "DEG", "wind_from_direction"),
    "wind_gust_speed": (
        "Windböen",
        "kilometre per hour",
        "km/h",
        "KiloM-PER-HR",
        "wind_speed_of_gust",
    ),
    "pressure_msl": (
        "Luftdruck (Meereshöhe)",
        "hectopascal",
        "hPa",
        "HectoPA",
        "air_pressure_at_mean_sea_level",
    ),
    "cloud_cover": ("Bewölkung", "percent", "%", "PERCENT", "cloud_area_fraction"),
    "dew_point": ("Taupunkt", "degree Celsius", "°C", "DEG_C", "dew_point_temperature"),
    "sunshine": ("Sonnenscheindauer (1 h)", "minute", "min", "MIN", "duration_of_sunshine"),
    "visibility": ("Sichtweite", "metre", "m", "M", "visibility_in_air"),
}
OBSERVED_TYPES = frozenset({"historical", "synop", "current"})
DEFAULT_PARAMETERS = [
    "temperature",
    "relative_humidity",
    "precipitation",
    "wind_speed",
    "wind_direction",
    "pressure_msl",
    "cloud_cover",
]


class BrightSkyOptions(Options):
    lat: float = Field(ge=-90, le=90, description="Latitude of the point.")
    lon: float = Field(ge=-180, le=180, description="Longitude of the point.")
    name: str | None = Field(None, description="Name of the place, e.g. 'Wetter Solingen'.")
    parameters: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PARAMETERS), description="Weather parameters kept."
    )
    past_hours: int = Field(24, ge=0, le=240, description="Observed hours fetched before now.")
    forecast_hours: int = Field(48, ge=0, le=240, description="Forecast hours fetched after now.")

    @field_validator("parameters")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PARAMETERS]
        if unknown:
            raise ValueError(f"unknown {unknown}; known: {', '.join(PARAMETERS)}")
        return value


class BrightSky(Connector):
    default_url = WEATHER_URL
    options_model = BrightSkyOptions
    options: BrightSkyOptions
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Wetter (DWD über Bright Sky)",
        "description": "Weather observations and forecasts of the Deutscher Wetterdienst for a "
        "point, through Bright Sky.",
        "licence": "cc-by/4.0",
        "keywords": ["Wetter", "DWD", "Vorhersage"],
        "themes": ["ENVI"],
        "update_frequency": "HOURLY",
    }
    collection_title: ClassVar[str | None] = "Wetterorte"

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        now = context.fetched_at.replace(minute=0, second=0, microsecond=0)
        params = {
            "lat": f"{self.options.lat:g}",
            "lon": f"{self.options.lon:g}",
            "date": (now - timedelta(hours=self.options.past_hours)).isoformat(),
            "last_date": (now + timedelta(hours=self.options.forecast_hours)).isoformat(),
            "tz": "Etc/UTC",
        }
        document = await context.get_json(url, params)
        if document is None:
            return None
        if not isinstance(document, dict) or not isinstance(document.get("weather"), list):
            raise SourceError(f"{url}: expected {{'weather': [...], 'sources': [...]}}")
        return Harvest(source=url, places=[self._place(document)])

    def _place(self, document: dict[str, Any]) -> Place:
        sources = {s.get("id"): s for s in document.get("sources") or [] if isinstance(s, dict)}
        series: dict[str, Series] = {}
        for record in document["weather"]:
            source = sources.get(record.get("source_id"), {})
            forecast = source.get("observation_type") not in OBSERVED_TYPES
            time = datetime.fromisoformat(str(record["timestamp"]))
            for parameter in self.options.parameters:
                value = record.get(parameter)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    stream = _series(series, parameter, forecast)
                    stream.readings.append(Reading(time, value))
        stations = {
            ("forecast" if s.get("observation_type") == "forecast" else "observed"): s.get(
                "station_name"
            )
            for s in sources.values()
        }
        lat, lon = self.options.lat, self.options.lon
        return Place(
            key=f"{lat:g},{lon:g}",
            name=self.options.name or f"Wetter {lat:g}, {lon:g}",
            geometry={"type": "Point", "coordinates": [lon, lat]},
            properties={"stations": stations},
            series=list(series.values()),
        )


def _series(series: dict[str, Series], parameter: str, forecast: bool) -> Series:
    key = f"{parameter}:forecast" if forecast else parameter
    if key not in series:
        name, unit_name, symbol, unit, observed = PARAMETERS[parameter]
        series[key] = Series(
            key=key,
            name=f"{name} (Vorhersage)" if forecast else name,
            unit={"name": unit_name, "symbol": symbol, "definition": _QUDT + unit},
            observed_property={"name": name, "definition": f"{_CF}{observed}/"},
            properties={"parameter": parameter, "kind": "forecast" if forecast else "observed"},
            revisable=True,
        )
    return series[key]
