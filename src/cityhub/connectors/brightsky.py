"""Bright Sky: the German weather service's (DWD) observations and forecasts for a point.

One request to ``/weather`` covers the past hours and the hours ahead: Bright Sky answers
hourly records, each naming its source, and a source's ``observation_type`` tells measured
("historical", "current", "synop") from forecast ("forecast", MOSMIX). The configured point
is one place; each weather parameter becomes two Datastreams kept apart: ``temperature``
(observed, appended run by run) and ``temperature/forecast`` (replaced as the forecast is
revised, see ``forecasts``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, field_validator

from cityhub.connectors.base import (
    Connector,
    Harvest,
    Options,
    Place,
    Reading,
    RunSummary,
    Series,
    SourceError,
)
from cityhub.connectors.context import RunContext
from cityhub.connectors.forecasts import FORECAST, clear_revised
from cityhub.connectors.saving import save_harvests

WEATHER_URL = "https://api.brightsky.dev/weather"
OBSERVATION = "observation"
_QUDT = "http://qudt.org/vocab/unit/"
_DWD = "https://brightsky.dev/docs/#/operations/getWeather#"


def _unit(name: str, symbol: str, qudt: str) -> dict[str, str]:
    return {"name": name, "symbol": symbol, "definition": _QUDT + qudt}


#: Bright Sky's numeric fields (in its default "dwd" units): name and unit.
PARAMETERS: dict[str, tuple[str, dict[str, str]]] = {
    "temperature": ("Air temperature", _unit("degree Celsius", "°C", "DEG_C")),
    "dew_point": ("Dew point", _unit("degree Celsius", "°C", "DEG_C")),
    "relative_humidity": ("Relative humidity", _unit("percent", "%", "PERCENT")),
    "pressure_msl": ("Air pressure at sea level", _unit("hectopascal", "hPa", "HectoPA")),
    "precipitation": ("Precipitation (past hour)", _unit("millimetre", "mm", "MilliM")),
    "precipitation_probability": ("Precipitation probability", _unit("percent", "%", "PERCENT")),
    "sunshine": ("Sunshine duration (past hour)", _unit("minute", "min", "MIN")),
    "wind_speed": ("Wind speed", _unit("kilometre per hour", "km/h", "KiloM-PER-HR")),
    "wind_direction": ("Wind direction", _unit("degree", "°", "DEG")),
    "wind_gust_speed": ("Wind gust speed", _unit("kilometre per hour", "km/h", "KiloM-PER-HR")),
    "cloud_cover": ("Cloud cover", _unit("percent", "%", "PERCENT")),
    "visibility": ("Visibility", _unit("metre", "m", "M")),
    "solar": (
        "Solar irradiation (past hour)",
        _unit("kilowatt hour per square metre", "kWh/m²", "KiloW-HR-PER-M2"),
    ),
}
DEFAULT_PARAMETERS = [
    "temperature",
    "relative_humidity",
    "precipitation",
    "wind_speed",
    "wind_direction",
    "pressure_msl",
    "cloud_cover",
    "sunshine",
]


class BrightSkyOptions(Options):
    lat: float = Field(ge=-90, le=90, description="Latitude of the point (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude of the point (WGS 84).")
    place: str | None = Field(None, description="Name of the place; default: its coordinates.")
    parameters: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PARAMETERS),
        description=f"Weather parameters kept, of: {', '.join(PARAMETERS)}.",
    )
    past_hours: int = Field(24, ge=1, le=240, description="Observations of these past hours.")
    forecast_hours: int = Field(48, ge=0, le=240, description="Forecast for these hours ahead.")
    max_dist: int | None = Field(
        None, ge=0, le=500000, description="Farthest DWD station used, in m (Bright Sky: 50 km)."
    )

    @field_validator("parameters")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PARAMETERS]
        if unknown:
            raise ValueError(f"unknown {unknown}; use {', '.join(PARAMETERS)}")
        return value


class BrightSky(Connector):
    default_url = WEATHER_URL
    options_model = BrightSkyOptions
    options: BrightSkyOptions
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Wetter (Deutscher Wetterdienst über Bright Sky)",
        "description": "Weather observations and forecasts of the Deutscher Wetterdienst (DWD) "
        "for a point, through Bright Sky. Observed and forecast values are separate "
        "Datastreams.",
        "licence": "dl-by-de/2.0",
        "hvd_category": "meteorological",
        "keywords": ["Wetter", "DWD", "Vorhersage"],
        "themes": ["ENVI"],
        "update_frequency": "HOURLY",
    }

    async def run(self, context: RunContext) -> RunSummary:
        harvests = [await self.harvest(context, url) for url in self.urls]
        found = [h for h in harvests if h is not None]
        if not found:
            return RunSummary(source_unchanged=True)
        target = context.target

        def write(connection: Any) -> RunSummary:
            clear_revised(connection, target.dataset, target.connector, found)
            return save_harvests(connection, target, found, context.fetched_at)

        context.progress("writing the weather")
        return await context.store.write(write)

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        options = self.options
        hour = context.fetched_at.replace(minute=0, second=0, microsecond=0)
        params: dict[str, Any] = {
            "lat": options.lat,
            "lon": options.lon,
            "date": (hour - timedelta(hours=options.past_hours)).isoformat(),
            "last_date": (hour + timedelta(hours=options.forecast_hours)).isoformat(),
            "tz": "Etc/UTC",
        }
        if options.max_dist is not None:
            params["max_dist"] = options.max_dist
        document = await context.get_json(url, params)
        if document is None:
            return None
        return Harvest(source=url, places=[self._place(url, document)])

    def _place(self, url: str, document: Any) -> Place:
        records, sources = _records_and_sources(url, document)
        kinds = {source_id: _kind(source) for source_id, source in sources.items()}
        series = []
        for parameter in self.options.parameters:
            for kind in (OBSERVATION, FORECAST):
                readings = [
                    Reading(_time(url, record), record[parameter])
                    for record in records
                    if kinds.get(record.get("source_id")) == kind
                    and isinstance(record.get(parameter), int | float)
                ]
                series.append(_series(parameter, kind, readings))
        lat, lon = self.options.lat, self.options.lon
        name = self.options.place or f"Wetter {lat:.4f}, {lon:.4f}"
        return Place(
            key=f"{lat:.5f},{lon:.5f}",
            name=name,
            geometry={"type": "Point", "coordinates": [lon, lat]},
            properties=_stations(sources, kinds),
            description=f"Weather of the Deutscher Wetterdienst at {name}",
            series=series,
        )


def _records_and_sources(url: str, document: Any) -> tuple[list[dict], dict[Any, dict]]:
    """The hourly records and the sources by id; an answer without them is an error."""
    if not isinstance(document, dict) or not isinstance(document.get("weather"), list):
        shown = ""
        if isinstance(document, dict):
            shown = ": " + "; ".join(
                str(document[k]) for k in ("title", "description", "detail") if document.get(k)
            )
        raise SourceError(f"{url}: the answer has no 'weather' list{shown}")
    sources = {
        source["id"]: source
        for source in document.get("sources") or []
        if isinstance(source, dict) and "id" in source
    }
    records = [r for r in document["weather"] if isinstance(r, dict) and "timestamp" in r]
    return records, sources


def _kind(source: dict[str, Any]) -> str:
    return FORECAST if source.get("observation_type") == FORECAST else OBSERVATION


def _time(url: str, record: dict[str, Any]) -> datetime:
    try:
        time = datetime.fromisoformat(str(record["timestamp"]))
    except ValueError:
        raise SourceError(f"{url}: '{record['timestamp']}' is not a timestamp") from None
    if time.tzinfo is None:
        raise SourceError(f"{url}: the timestamp '{record['timestamp']}' has no time zone")
    return time


def _series(parameter: str, kind: str, readings: list[Reading]) -> Series:
    name, unit = PARAMETERS[parameter]
    forecast = kind == FORECAST
    return Series(
        key=f"{parameter}/{FORECAST}" if forecast else parameter,
        name=f"{name} (forecast)" if forecast else name,
        unit=unit,
        observed_property={"name": name, "definition": _DWD + parameter},
        description=(
            f"{name}, forecast of the DWD (MOSMIX), replaced as it is revised"
            if forecast
            else f"{name}, observed at the nearest DWD station"
        ),
        properties={"kind": kind, "parameter": parameter},
        readings=readings,
    )


def _stations(sources: dict[Any, dict], kinds: dict[Any, str]) -> dict[str, Any]:
    """The nearest station of each kind: where the values come from."""
    stations: dict[str, Any] = {}
    for source_id, source in sorted(sources.items(), key=lambda s: s[1].get("distance") or 0):
        field = f"{kinds[source_id]}Station"
        if field not in stations:
            stations[field] = {
                k: source.get(k)
                for k in ("station_name", "dwd_station_id", "wmo_station_id", "distance")
                if source.get(k) is not None
            }
    return stations
