"""Invented car parks of Solingen with free and total spaces, shaped as ParkAPI delivers them.

Each car park is described as a ParkAPI v3 parking site and mapped by the ParkAPI
connector's own code, so the demo's features, Things and Datastreams (``free``, ``total``)
look exactly like a harvested ParkAPI source. Occupancy follows the time of day and the
weekday by the kind of car park (city centre, shopping centre, commuters at the station);
every value depends only on the car park and the time, so reloading yields the same numbers.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityhub.connectors.base import Harvest, Place

# The connector's v3 mapping and its free/total series, reused rather than written twice.
from cityhub.connectors.parkapi import _spaces, _v3_places

COLLECTION = "parkhaeuser"
"""Slug of the car parks' feature collection."""

SOURCE = "https://example.org/cityhub/demo/parkapi/v3/parking-sites"
STEP = timedelta(minutes=15)

_LOCAL = ZoneInfo("Europe/Berlin")
_SEED = "cityhub-demo-solingen-parking-v1"


@dataclass(frozen=True)
class Garage:
    key: str
    name: str
    address: str
    lon: float
    lat: float
    capacity: int
    operator: str
    opening_hours: str
    kind: str  # "city", "shopping" or "commuter"
    type: str = "CAR_PARK"
    #: Local opening hours by weekday (0 = Monday) as (opens, closes); None: always open.
    hours: dict[int, tuple[int, int]] | None = None


GARAGES = (
    Garage(
        "sg-ph-rathaus",
        "Parkhaus Rathaus",
        "Walter-Scheel-Platz 2, 42651 Solingen",
        7.08290,
        51.17320,
        420,
        "Stadtwerke Solingen (Demo)",
        "24/7",
        "city",
    ),
    Garage(
        "sg-ph-clemens-galerien",
        "Parkhaus Clemens-Galerien",
        "Kölner Straße 12, 42651 Solingen",
        7.08220,
        51.16960,
        610,
        "Clemens-Galerien Parken (Demo)",
        "Mo-Sa 07:00-21:00",
        "shopping",
        "UNDERGROUND",
        dict.fromkeys(range(6), (7, 21)),
    ),
    Garage(
        "sg-ph-hofgarten",
        "Parkhaus Hofgarten",
        "Birkerstraße 5, 42651 Solingen",
        7.08590,
        51.16890,
        350,
        "Hofgarten Solingen (Demo)",
        "Mo-Sa 07:00-22:00; Su 10:00-18:00",
        "shopping",
        hours={**dict.fromkeys(range(6), (7, 22)), 6: (10, 18)},
    ),
    Garage(
        "sg-ph-neumarkt",
        "Tiefgarage Neumarkt",
        "Neumarkt 1, 42651 Solingen",
        7.08460,
        51.17210,
        180,
        "Stadtwerke Solingen (Demo)",
        "24/7",
        "city",
        "UNDERGROUND",
    ),
    Garage(
        "sg-pr-hbf",
        "P+R Solingen Hbf",
        "Bahnhofstraße 20, 42697 Solingen",
        7.00520,
        51.16080,
        260,
        "Deutsche Bahn Parking (Demo)",
        "24/7",
        "commuter",
    ),
)


def _bump(hours: float, rise: float, fall: float, ramp: float = 2.0) -> float:
    """0 before ``rise``, 1 between ``rise + ramp`` and ``fall``, smooth in between."""
    up = min(1.0, max(0.0, (hours - rise) / ramp))
    down = min(1.0, max(0.0, (fall + ramp - hours) / ramp))
    return (0.5 - 0.5 * math.cos(math.pi * up)) * (0.5 - 0.5 * math.cos(math.pi * down))


def occupancy(kind: str, moment: datetime) -> float:
    """The share of spaces taken in a car park of ``kind`` at ``moment`` (0..1, no noise)."""
    local = moment.astimezone(_LOCAL)
    hours = local.hour + local.minute / 60
    weekday = local.weekday()
    if kind == "commuter":
        peak, night = (0.92, 0.12) if weekday < 5 else (0.3, 0.08)
        return night + (peak - night) * _bump(hours, 5.5, 17.0)
    if kind == "shopping":
        peak = (0.62, 0.62, 0.62, 0.62, 0.7, 0.96, 0.25)[weekday]
        midday = 0.75 + 0.25 * _bump(hours, 11.0, 16.5, 1.5)
        return 0.03 + (peak - 0.03) * midday * _bump(hours, 7.0, 19.0)
    peak = (0.78, 0.78, 0.78, 0.78, 0.82, 0.9, 0.35)[weekday]
    return 0.15 + (peak - 0.15) * _bump(hours, 6.5, 18.5, 2.5)


def free_spaces(garage: Garage, moment: datetime) -> int:
    """Free spaces at ``moment``: the kind's occupancy plus a little deterministic noise."""
    noise = random.Random(f"{_SEED}|{garage.key}|{moment.isoformat()}").gauss(0, 0.025)
    taken = min(1.0, max(0.0, occupancy(garage.kind, moment) + noise))
    return garage.capacity - round(garage.capacity * taken)


def opening_status(garage: Garage, moment: datetime) -> str:
    """ParkAPI's ``OPEN`` or ``CLOSED`` for the car park at ``moment``."""
    if garage.hours is None:
        return "OPEN"
    local = moment.astimezone(_LOCAL)
    opens, closes = garage.hours.get(local.weekday(), (0, 0))
    return "OPEN" if opens <= local.hour < closes else "CLOSED"


def _site(garage: Garage, updated: datetime) -> dict[str, Any]:
    """The car park as a ParkAPI v3 parking site, with its live numbers at ``updated``."""
    return {
        "id": garage.key,
        "name": garage.name,
        "address": garage.address,
        "lat": f"{garage.lat:.5f}",
        "lon": f"{garage.lon:.5f}",
        "type": garage.type,
        "purpose": "CAR",
        "capacity": garage.capacity,
        "operator_name": garage.operator,
        "has_fee": True,
        "opening_hours": garage.opening_hours,
        "realtime_opening_status": opening_status(garage, updated),
        "has_realtime_data": True,
        "realtime_free_capacity": free_spaces(garage, updated),
        "realtime_capacity": garage.capacity,
        "realtime_data_updated_at": updated.isoformat(),
    }


def parking_harvest(start: datetime, end: datetime) -> Harvest:
    """The car parks with their free and total spaces every 15 minutes from ``start`` up to
    and including ``end`` (the latest, "live" numbers)."""
    end = end.astimezone(UTC)
    document = {"items": [_site(garage, end) for garage in GARAGES]}
    places = _v3_places(SOURCE, document)
    for garage, place in zip(GARAGES, places, strict=True):
        _prepend_history(place, garage, start.astimezone(UTC), end)
    return Harvest(source=SOURCE, places=places)


def _prepend_history(place: Place, garage: Garage, start: datetime, end: datetime) -> None:
    earlier = []
    moment = start
    while moment < end:
        status = {"openingStatus": opening_status(garage, moment)}
        earlier.append(_spaces(moment, free_spaces(garage, moment), garage.capacity, status))
        moment += STEP
    for index, series in enumerate(place.series):
        series.readings[:0] = [step[index].readings[0] for step in earlier]
