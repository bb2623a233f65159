"""Places of the Solingen demo: districts and public toilets, as feature collections.

Invented for trying the hub: the district outlines are rectangles tiling the city's
surroundings, not the official boundaries, and the toilets are placed where a visitor might
look for one. Enough to ask "what is near me" and "what lies in this district".
"""

from __future__ import annotations

from typing import Any

#: (slug, title, description, key property) of each demo collection.
COLLECTIONS = {
    "stadtbezirke": (
        "Stadtbezirke (Demo)",
        "Simplified, invented outlines of Solingen's five districts.",
        "bezirk_nr",
    ),
    "oeffentliche-toiletten": (
        "Öffentliche Toiletten (Demo)",
        "Invented public toilets around Solingen.",
        "toilette_id",
    ),
}


def _box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


_DISTRICTS = [
    ("1", "Gräfrath", (7.06, 51.19, 7.16, 51.23)),
    ("2", "Wald", (6.98, 51.19, 7.06, 51.23)),
    ("3", "Solingen-Mitte", (7.04, 51.15, 7.16, 51.19)),
    ("4", "Ohligs/Aufderhöhe/Merscheid", (6.98, 51.11, 7.04, 51.19)),
    ("5", "Burg/Höhscheid", (7.04, 51.11, 7.16, 51.15)),
]

_TOILETS = [
    ("WC-01", "Neumarkt", 7.0838, 51.1716, True, 0.5),
    ("WC-02", "Südpark", 7.0700, 51.1650, True, 0.0),
    ("WC-03", "Bahnhof Ohligs", 7.0080, 51.1610, False, 0.5),
    ("WC-04", "Gräfrather Markt", 7.0700, 51.2080, True, 0.0),
    ("WC-05", "Schloss Burg", 7.1530, 51.1360, False, 0.7),
    ("WC-06", "Walder Kirchplatz", 7.0430, 51.1950, True, 0.0),
]


def demo_places() -> dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]]:
    """(key, properties, geometry) of each place, by collection slug."""
    districts = [
        (number, {"bezirk_nr": number, "name": name}, _box(*bounds))
        for number, name, bounds in _DISTRICTS
    ]
    toilets = [
        (
            key,
            {"toilette_id": key, "name": name, "barrierefrei": accessible, "gebuehr_eur": fee},
            {"type": "Point", "coordinates": [lon, lat]},
        )
        for key, name, lon, lat, accessible, fee in _TOILETS
    ]
    return {"stadtbezirke": districts, "oeffentliche-toiletten": toilets}
