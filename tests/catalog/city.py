"""A city's datasets for the catalog tests: a static collection only, sensors only, both
(a high-value dataset, whose garage also has a MultiDatastream), and a restricted one that
must appear nowhere."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import HubClient
from tests.features.helpers import add_collection, add_features, point
from tests.portal.test_pages import _thing as thing_with_streams

from cityhub.settings import Settings
from cityhub.timeutil import format_instant

NOW = datetime.now(UTC).replace(microsecond=0)
CATALOG_SETTINGS = {
    "city_name": "Solingen",
    "municipality_key": "05122000",
    "contributor_id": "http://dcat-ap.de/def/contributors/stadtSolingen",
    "base_url": "https://daten.solingen.example",
}
BASE = CATALOG_SETTINGS["base_url"]


def hub_fixture(backend_settings: Settings) -> Iterator[HubClient]:
    """A hub on each backend with the catalog settings of a city (Solingen); the test
    modules make it their fixture ``catalog_hub``, and ``city_fixture`` their ``city``."""
    client = HubClient(backend_settings.model_copy(update=CATALOG_SETTINGS))
    yield client
    client.close()


def city_fixture(catalog_hub: HubClient) -> City:
    return build_city(catalog_hub)


@dataclass
class City:
    datastreams: list[int]
    secret_datastream: int
    multi_datastream: int  # the garage's: free and occupied spaces


def _dataset(hub: Any, **body: Any) -> None:
    body.setdefault("licence", "dl-by-de/2.0")
    response = hub.post("/api/admin/datasets", json=body, headers=hub.admin)
    assert response.status_code == 201, response.text


def _thing(hub: Any, name: str, dataset: str) -> int:
    """A Thing at the Neumarkt with one Datastream (the portal tests' helper); its id."""
    _, (datastream,) = thing_with_streams(hub, name, dataset, [{"name": f"{name} Temperatur"}])
    return datastream


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
                "geometry": point(7.0839, 51.1718),  # where its Thing is
                "properties": {"name": "Mühlenplatz"},
                "start": NOW - timedelta(days=400),
            }
        ],
    )
    air = _thing(hub, "Messstelle Neumarkt", "luftmessung")
    garage = _thing(hub, "Parkhaus Mühlenplatz", "parken")
    secret = _thing(hub, "Geheim", "intern")
    _observe(hub, air, [NOW - timedelta(days=3), NOW - timedelta(hours=1)])
    _observe(hub, garage, [NOW - timedelta(days=2)])
    _observe(hub, secret, [NOW - timedelta(days=900)])
    spaces = _multi_datastream(hub, garage, NOW - timedelta(days=2))
    return City([air, garage], secret, spaces)


def _multi_datastream(hub: Any, datastream: int, time: datetime) -> int:
    """A MultiDatastream of the Datastream's Thing with one Observation; its id."""
    thing = hub.get(f"/v1.1/Datastreams({datastream})/Thing").json()["@iot.id"]
    count = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation"
    body = {
        "name": "Stellplätze Mühlenplatz",
        "description": "freie und belegte Stellplätze",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
        "OM_ComplexObservation",
        "unitOfMeasurements": [{"name": "Stellplätze", "symbol": ""}] * 2,
        "multiObservationDataTypes": [count, count],
        "Thing": {"@iot.id": thing},
        "Sensor": {
            "name": "Zählschleife",
            "description": "zählt Ein- und Ausfahrten",
            "encodingType": "text/html",
            "metadata": "https://example.org/zaehlschleife",
        },
        "ObservedProperties": [
            {"name": name, "definition": f"https://example.org/def/{name}", "description": name}
            for name in ("frei", "belegt")
        ],
        "Observations": [{"phenomenonTime": format_instant(time), "result": [120, 380]}],
    }
    response = hub.post("/v1.1/MultiDatastreams", json=body)
    assert response.status_code == 201, response.text
    return response.json()["@iot.id"]
