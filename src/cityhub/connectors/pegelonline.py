"""Pegelonline, the federal waterways agency's gauges (WSV REST API v2).

One request, ``stations.json`` with time series and current measurements: each gauge is a
place, its water level W (and discharge Q, where measured) a series. The gauge zero (height
of the gauge's zero above sea level, in m) is kept with the place and the water level's
Datastream, so absolute heights can be derived: gauge zero + W / 100.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from cityhub.connectors.base import Connector, Harvest, Options, Place, Reading, Series, SourceError
from cityhub.connectors.context import RunContext

STATIONS_URL = "https://www.pegelonline.wsv.de/webservices/rest-api/v2/stations.json"
_DEFINITIONS = "https://www.pegelonline.wsv.de/webservices/rest-api/v2/timeseries/"

_UNITS = {
    "cm": {"name": "centimetre", "symbol": "cm", "definition": "http://qudt.org/vocab/unit/CentiM"},
    "m³/s": {
        "name": "cubic metre per second",
        "symbol": "m³/s",
        "definition": "http://qudt.org/vocab/unit/M3-PER-SEC",
    },
}
_QUANTITIES = {"W": "Wasserstand (water level)", "Q": "Abfluss (discharge)"}


class PegelonlineOptions(Options):
    waters: list[str] = Field(
        default_factory=list, description="Only gauges on these waters, e.g. ['RHEIN', 'WUPPER']."
    )
    stations: list[str] = Field(
        default_factory=list, description="Only these gauges (UUID, number or name)."
    )
    timeseries: list[str] = Field(
        default_factory=lambda: ["W", "Q"], description="Time series kept as Datastreams."
    )


class Pegelonline(Connector):
    default_url = STATIONS_URL
    options_model = PegelonlineOptions
    options: PegelonlineOptions
    dataset_defaults: ClassVar[dict[str, Any]] = {
        "title": "Pegelstände (Pegelonline)",
        "description": "Water levels and discharge at the gauges of the federal waterways, "
        "from PEGELONLINE of the Wasserstraßen- und Schifffahrtsverwaltung des Bundes.",
        "licence": "dl-zero-de/2.0",
        "keywords": ["Pegel", "Wasserstand", "Hochwasser"],
        "themes": ["ENVI"],
        "update_frequency": "15MIN",
    }
    collection_title: ClassVar[str | None] = "Pegel"

    async def harvest(self, context: RunContext, url: str) -> Harvest | None:
        params = {"includeTimeseries": "true", "includeCurrentMeasurement": "true"}
        if self.options.waters:
            params["waters"] = ",".join(self.options.waters)
        if self.options.stations:
            params["ids"] = ",".join(self.options.stations)
        document = await context.get_json(url, params)
        if document is None:
            return None
        if not isinstance(document, list):
            raise SourceError(f"{url}: expected a list of stations, got {type(document).__name__}")
        places = [self._place(station) for station in document if _located(station)]
        return Harvest(source=url, places=places)

    def _place(self, station: dict[str, Any]) -> Place:
        water = station.get("water") or {}
        series = [
            _series(timeseries)
            for timeseries in station.get("timeseries") or []
            if timeseries.get("shortname") in self.options.timeseries
        ]
        level = next((t for t in station.get("timeseries") or [] if t.get("shortname") == "W"), {})
        properties = {
            "number": station.get("number"),
            "shortname": station.get("shortname"),
            "km": station.get("km"),
            "agency": station.get("agency"),
            "water": water.get("longname"),
            "gaugeZero": level.get("gaugeZero"),
        }
        return Place(
            key=str(station["uuid"]),
            name=_title(station.get("longname") or station.get("shortname") or station["uuid"]),
            geometry={"type": "Point", "coordinates": [station["longitude"], station["latitude"]]},
            properties={k: v for k, v in properties.items() if v is not None},
            description=f"Pegel {station.get('longname')} ({water.get('longname', '?')})",
            series=series,
        )


def _located(station: Any) -> bool:
    return (
        isinstance(station, dict)
        and "uuid" in station
        and isinstance(station.get("longitude"), int | float)
        and isinstance(station.get("latitude"), int | float)
    )


def _title(name: str) -> str:
    """Pegelonline writes names in capitals: ``KÖLN`` → ``Köln``, ``BONN-BEUEL`` as is but cased."""
    return "-".join(part.capitalize() for part in name.split("-")) if name.isupper() else name


def _series(timeseries: dict[str, Any]) -> Series:
    key = str(timeseries["shortname"])
    unit_text = str(timeseries.get("unit") or "")
    unit = _UNITS.get(unit_text, {"name": unit_text, "symbol": unit_text, "definition": ""})
    quantity = _QUANTITIES.get(key, str(timeseries.get("longname") or key).capitalize())
    properties = {
        "longname": timeseries.get("longname"),
        "equidistanceMinutes": timeseries.get("equidistance"),
        "gaugeZero": timeseries.get("gaugeZero"),
    }
    readings = []
    current = timeseries.get("currentMeasurement")
    if isinstance(current, dict) and isinstance(current.get("value"), int | float):
        states = {k: current[k] for k in ("stateMnwMhw", "stateNswHsw") if k in current}
        time = datetime.fromisoformat(str(current["timestamp"]))
        readings.append(Reading(time, float(current["value"]), parameters=states or None))
    return Series(
        key=key,
        name=quantity,
        unit=unit,
        observed_property={"name": quantity, "definition": _DEFINITIONS + key},
        properties={k: v for k, v in properties.items() if v is not None},
        readings=readings,
    )
