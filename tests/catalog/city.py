"""A city's datasets for the catalog tests: a static collection only, sensors only, both
(a high-value dataset), and a restricted one that must appear nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.features.helpers import add_collection, add_features, point

from cityhub.timeutil import format_instant

NOW = datetime.now(UTC).replace(microsecond=0)
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
CATALOG_SETTINGS = {
    "city_name": "Solingen",
    "municipality_key": "05122000",
    "contributor_id": "http://dcat-ap.de/def/contributors/stadtSolingen",
    "base_url": "https://daten.solingen.example",
}
BASE = CATALOG_SETTINGS["base_url"]


@dataclass
class City:
    datastreams: list[int]
    secret_datastream: int


def _dataset(hub: Any, **body: Any) -> None:
    body.setdefault("licence", "dl-by-de/2.0")
    response = hub.post("/api/admin/datasets", json=body, headers=hub.admin)
    assert response.status_code == 201, response.text


def _thing(hub: Any, name: str, dataset: str, lon: float, lat: float) -> int:
    body = {
        "name": name,
        "description": f"{name} in Solingen",
        "properties": {"dataset": dataset},
        "Locations": [
            {
                "name": name,
                "description": "Standort",
                "encodingType": "application/geo+json",
                "location": point(lon, lat),
            }
        ],
        "Datastreams": [
            {
                "name": f"{name} Temperatur",
                "description": "Lufttemperatur",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": {"name": "Grad Celsius", "symbol": "°C", "definition": "x"},
                "ObservedProperty": {"name": "Temperatur", "definition": "x", "description": "x"},
                "Sensor": {
                    "name": "Fühler",
                    "description": "x",
                    "encodingType": "text/html",
                    "metadata": "x",
                },
            }
        ],
    }
    response = hub.post("/v1.1/Things", json=body)
    assert response.status_code == 201, response.text
    thing = int(response.headers["location"].rsplit("(", 1)[1].rstrip(")"))
    found = hub.get(f"/v1.1/Things({thing})/Datastreams", headers=hub.admin).json()["value"]
    return int(found[0]["@iot.id"])


def _observe(hub: Any, datastream: int, times: list[datetime]) -> None:
    body = [
        {
            "Datastream": {"@iot.id": datastream},
            "components": ["phenomenonTime", "result"],
            "dataArray": [[format_instant(t), 12.5] for t in times],
        }
    ]
    response = hub.post("/v1.1/CreateObservations", json=body)
    assert response.status_code == 201, response.text


def build_city(hub: Any) -> City:
    organization = {
        "slug": "stadt-solingen",
        "name": "Stadt Solingen",
        "url": "https://www.solingen.de",
        "email": "opendata@solingen.de",
    }
    for body in (organization, {"slug": "schulamt", "name": "Schulamt"}):
        response = hub.post("/api/admin/organizations", json=body, headers=hub.admin)
        assert response.status_code == 201, response.text
    _dataset(
        hub,
        slug="toiletten",
        title="Öffentliche Toiletten",
        description="Wo es in Solingen öffentliche Toiletten gibt.",
        organization="stadt-solingen",
        keywords=["Toiletten", "Barrierefreiheit"],
        themes=["SOCI"],
        update_frequency="MONTHLY",
        licence="dl-zero-de/2.0",
    )
    _dataset(
        hub,
        slug="luftmessung",
        title="Luftmessnetz",
        description="Temperatur an Messstellen in der Innenstadt.",
        organization="stadt-solingen",
        keywords=["Luft", "Temperatur"],
        themes=["ENVI"],
        update_frequency="HOURLY",
        contact_name="Umweltamt",
        contact_email="umwelt@solingen.de",
    )
    _dataset(
        hub,
        slug="parken",
        title="Parkhäuser",
        description="Parkhäuser mit freien Plätzen, live.",
        keywords=["Parken"],
        themes=["TRAN"],
        update_frequency="5MIN",
        hvd_category="mobility",
        licence="cc-by/4.0",
    )
    _dataset(
        hub,
        slug="intern",
        title="Interne Messungen",
        visibility="restricted",
        organization="schulamt",
        keywords=["Geheimwort", "Luft"],
        themes=["HEAL"],
    )
    datasets = {
        d["slug"]: d["id"] for d in hub.get("/api/admin/datasets", headers=hub.admin).json()
    }
    toilets = add_collection(hub, datasets["toiletten"], "toiletten", "Toiletten")
    add_features(
        hub,
        toilets,
        [
            {"geometry": point(7.05, 51.16), "properties": {"name": "Markt"}},
            {"geometry": point(7.10, 51.18), "properties": {"name": "Bahnhof"}},
        ],
    )
    garages = add_collection(hub, datasets["parken"], "parkhaeuser", "Parkhäuser")
    add_features(
        hub,
        garages,
        [
            {
                "geometry": point(7.08, 51.17),
                "properties": {"name": "Mühlenplatz"},
                "start": NOW - timedelta(days=400),
            }
        ],
    )
    air = _thing(hub, "Messstelle Neumarkt", "luftmessung", 7.083, 51.171)
    garage = _thing(hub, "Parkhaus Mühlenplatz", "parken", 7.08, 51.17)
    secret = _thing(hub, "Geheim", "intern", 7.2, 51.2)
    _observe(hub, air, [NOW - timedelta(days=3), NOW - timedelta(hours=1)])
    _observe(hub, garage, [NOW - timedelta(days=2)])
    _observe(hub, secret, [NOW - timedelta(days=900)])
    return City([air, garage], secret)
