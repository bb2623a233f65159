"""A weather forecast for Solingen, shaped as the Bright Sky connector delivers one.

The forecast is written as a Bright Sky ``/weather`` answer (hourly records of a MOSMIX
source) and mapped by the ``brightsky`` connector's own code, so the demo has the same
``temperature:forecast``, ``precipitation:forecast``, … Datastreams a real installation
harvests, for "today" tiles of the screens.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cityhub.connectors.base import Harvest
from cityhub.connectors.brightsky import WEATHER_URL, BrightSky
from cityhub.connectors.config import ConnectorConfig
from cityhub.demo_data import weather_forecast

CONNECTOR = "demo-wettervorhersage"
"""The connector name the forecast's Thing carries (``properties.connector``)."""
COLLECTION = "wettervorhersage"
NAME = "Wettervorhersage Solingen"
HOURS = 48
PARAMETERS = [
    "temperature",
    "relative_humidity",
    "precipitation",
    "wind_speed",
    "pressure_msl",
    "cloud_cover",
]
_LAT, _LON = 51.1726, 7.0838


def _document(issued: datetime) -> dict[str, Any]:
    hours = [issued + timedelta(hours=h) for h in range(1, HOURS + 1)]
    return {
        "weather": [
            {"timestamp": t.isoformat(), "source_id": 1, **weather_forecast(t)} for t in hours
        ],
        "sources": [
            {"id": 1, "observation_type": "forecast", "station_name": "Solingen (Demo-MOSMIX)"}
        ],
    }


def forecast_harvest(now: datetime) -> Harvest:
    """The hourly forecast for the ``HOURS`` hours after the full hour of ``now``."""
    issued = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    config = ConnectorConfig(
        type="brightsky",
        lat=_LAT,
        lon=_LON,
        name=NAME,
        parameters=PARAMETERS,
    )
    connector = BrightSky(CONNECTOR, config)
    return Harvest(source=WEATHER_URL, places=[connector._place(_document(issued))])
