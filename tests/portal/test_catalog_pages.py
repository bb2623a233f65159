"""The portal as a catalog, over HTTP on both backends: a dataset page's metadata in words,
its downloads and DCAT-AP.de record links, its schema.org JSON-LD, robots.txt and the
sitemap — and a restricted dataset in none of them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.conftest import HubClient
from tests.features.helpers import add_collection, add_features, point

from cityhub.portal import sitemap
from cityhub.timeutil import format_instant

BASE = "http://testserver"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
TRICKY = 'Parken </script><script>alert("x")</script> & „Plätze“'
NOW = datetime.now(UTC).replace(microsecond=0)
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class Catalog:
    datastream: int
    secret_datastream: int


def _dataset(hub: Any, **fields: Any) -> dict[str, Any]:
    body = {"licence": "dl-by-de/2.0", "description": "", **fields}
    response = hub.post("/api/admin/datasets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _thing(hub: Any, dataset: str, name: str, lon: float, lat: float) -> int:
    body = {
        "name": name,
        "description": name,
        "properties": {"dataset": dataset},
        "Locations": [
            {
                "name": name,
                "description": name,
                "encodingType": "application/geo+json",
                "location": point(lon, lat),
            }
        ],
        "Datastreams": [
            {
                "name": f"Temperatur {name}",
                "description": "Lufttemperatur",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "Grad Celsius", "symbol": "°C", "definition": "x"},
                "ObservedProperty": {
                    "name": "Lufttemperatur",
                    "definition": "x",
                    "description": "x",
                },
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
    rows = [[format_instant(t), 4.5] for t in times]
    body = [{"Datastream": {"@iot.id": datastream}, "components": ["phenomenonTime", "result"]}]
    body[0]["dataArray"] = rows
    assert hub.post("/v1.1/CreateObservations", json=body).status_code == 201


@pytest.fixture
def catalog(hub: Any) -> Catalog:
    organization = {"slug": "stadt-solingen", "name": "Stadt Solingen"}
    organization |= {"url": "https://www.solingen.de", "email": "opendata@solingen.de"}
    assert hub.post("/api/admin/organizations", json=organization).status_code == 201
    luft = _dataset(
        hub,
        slug="luft",
        title="Luftmessnetz Solingen",
        description="Temperatur und Luftqualität an Messstellen in der Innenstadt.",
        organization="stadt-solingen",
        keywords=["Luft", "Temperatur"],
        themes=["ENVI", "REGI"],
        update_frequency="HOURLY",
        hvd_category="meteorological",
        contact_name="Team Umwelt",
        contact_email="umwelt@solingen.de",
    )
    add_features(
        hub,
        add_collection(hub, luft["id"], "messstellen", "Messstellen"),
        [{"geometry": point(7.05, 51.15), "properties": {"name": "A"}}],
    )
    datastream = _thing(hub, "luft", "Neumarkt", 7.09, 51.18)
    _observe(hub, datastream, [NOW - timedelta(hours=5), NOW - timedelta(hours=1)])
    intern = _dataset(hub, slug="intern", title="Geheimes Netz", visibility="restricted")
    add_collection(hub, intern["id"], "geheime-orte", "Geheime Orte")
    secret = _thing(hub, "intern", "Versteck", 8.0, 52.0)
    _dataset(hub, slug="knapp", title=TRICKY, description="kurz")
    return Catalog(datastream, secret)


def _jsonld(html: str) -> list[dict[str, Any]]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return [json.loads(text) for text in found]


def test_a_dataset_page_shows_its_catalog_metadata_in_german(hub, catalog):
    html = hub.get("/datasets/luft").text
    assert "<h1>Luftmessnetz Solingen</h1>" in html
    assert "Temperatur und Luftqualität" in html
    assert '<a href="https://www.solingen.de">Stadt Solingen</a>' in html
    assert 'Team Umwelt <a href="mailto:umwelt@solingen.de">umwelt@solingen.de</a>' in html
    licence = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert f'<a href="{licence}">Datenlizenz Deutschland – Namensnennung – Version 2.0</a>' in html
    theme = "http://publications.europa.eu/resource/authority/data-theme/"
    assert (
        f'<a href="{theme}ENVI">Umwelt</a>, <a href="{theme}REGI">Regionen und Städte</a>' in html
    )
    assert "<dd>Luft, Temperatur</dd>" in html
    assert "<dd>stündlich</dd>" in html
    assert ">Meteorologie</a>" in html
    assert "<dd>öffentlich, frei zugänglich</dd>" in html
    shown = hub.get("/api/admin/datasets/luft", headers=hub.admin).json()
    for label, field in (("Veröffentlicht", "created_at"), ("Zuletzt geändert", "modified_at")):
        day = datetime.fromisoformat(shown[field]).astimezone(BERLIN).strftime("%d.%m.%Y")
        assert f'<dt>{label}</dt><dd><time datetime="{shown[field]}">{day}</time></dd>' in html
    assert "<dt>Metadaten (DCAT-AP.de)</dt>" in html


def test_a_dataset_page_shows_its_catalog_metadata_in_english(hub, catalog):
    html = hub.get("/datasets/luft?lang=en").text
    for text in (
        ">Environment</a>",
        ">Regions and cities</a>",
        "<dd>hourly</dd>",
        ">Meteorological</a>",
        "<dt>Published</dt>",
        "<dd>public, open to everyone</dd>",
        "Metadata (DCAT-AP.de)",
        "High-value dataset",
    ):
        assert text in html, text
    shown = hub.get("/api/admin/datasets/luft", headers=hub.admin).json()
    day = datetime.fromisoformat(shown["modified_at"]).astimezone(BERLIN).strftime("%Y-%m-%d")
    assert f'<time datetime="{shown["modified_at"]}">{day}</time>' in html


def test_the_page_links_the_bulk_downloads_with_names_saying_what_they_are(hub, catalog):
    html = hub.get("/datasets/luft").text
    for ext, title in (("csv", "CSV"), ("geojson", "GeoJSON"), ("parquet", "Parquet")):
        collection = f"{BASE}/downloads/collections/messstellen.{ext}"
        assert re.search(
            rf'<a href="{re.escape(collection)}" type="[^"]+" '
            rf'aria-label="Messstellen als {title} herunterladen">{title}</a>',
            html,
        ), collection
        stream = f"{BASE}/downloads/datastreams/{catalog.datastream}.{ext}"
        label = f"Messwerte von Temperatur Neumarkt als {title} herunterladen"
        assert f'href="{stream}"' in html
        assert f'aria-label="{label}"' in html
    assert 'type="application/vnd.apache.parquet"' in html
    assert "$resultFormat=dataArray" not in html
    assert "items?f=json&amp;limit=10000" not in html
    english = hub.get("/datasets/luft?lang=en").text
    assert 'aria-label="Download Messstellen as CSV"' in english


def test_the_dataset_page_and_the_list_link_the_dcat_record_and_the_ckan_api(hub, catalog):
    html = hub.get("/datasets/luft").text
    record = f"{BASE}/catalog/datasets/luft"
    for ext, media, title in (
        ("ttl", "text/turtle", "Turtle"),
        ("rdf", "application/rdf+xml", "RDF/XML"),
        ("jsonld", "application/ld+json", "JSON-LD"),
    ):
        assert f'<link rel="alternate" type="{media}" href="{record}.{ext}">' in html
        assert f'aria-label="Metadaten (DCAT-AP.de) als {title}">{title}</a>' in html
        assert f'href="{record}.{ext}"' in html
    listing = hub.get("/datasets").text
    assert f'<link rel="alternate" type="text/turtle" href="{BASE}/catalog.ttl">' in listing
    assert f'href="{BASE}/catalog.jsonld"' in listing
    assert 'href="/api/3/action/package_search"' in listing


def test_the_json_ld_describes_the_dataset_as_google_dataset_search_asks(hub, catalog):
    (described,) = _jsonld(hub.get("/datasets/luft").text)
    iri = f"{BASE}/datasets/luft"
    assert described["@context"] == "https://schema.org/"
    assert described["@type"] == "Dataset"
    assert described["name"] == "Luftmessnetz Solingen"
    assert 50 <= len(described["description"]) <= 5000
    assert described["url"] == described["identifier"] == iri
    assert described["license"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
    assert described["keywords"] == ["Luft", "Temperatur"]
    assert described["isAccessibleForFree"] is True
    assert described["creator"]["@type"] == "Organization"
    assert described["creator"]["name"] == "Stadt Solingen"
    assert described["creator"]["contactPoint"]["email"] == "umwelt@solingen.de"
    assert described["dateModified"].endswith("Z")
    assert described["includedInDataCatalog"]["@type"] == "DataCatalog"
    assert described["variableMeasured"] == ["Lufttemperatur"]
    # The box around the feature (7.05, 51.15) and the Location (7.09, 51.18): lat lon first.
    assert described["spatialCoverage"]["geo"] == {
        "@type": "GeoShape",
        "box": "51.15 7.05 51.18 7.09",
    }
    start, end = described["temporalCoverage"].split("/")
    assert start == format_instant(NOW - timedelta(hours=5))
    assert end == format_instant(NOW - timedelta(hours=1))
    downloads = {d["contentUrl"]: d for d in described["distribution"]}
    assert len(downloads) == 6
    csv = downloads[f"{BASE}/downloads/collections/messstellen.csv"]
    assert csv["@type"] == "DataDownload"
    assert csv["encodingFormat"] == "text/csv"
    assert f"{BASE}/downloads/datastreams/{catalog.datastream}.parquet" in downloads


def test_a_title_that_closes_the_script_keeps_the_json_ld_valid(hub, catalog):
    html = hub.get("/datasets/knapp").text
    (described,) = _jsonld(html)
    assert described["name"] == TRICKY
    # A too short description is completed to Google's minimum, in the page language.
    assert described["description"].startswith("kurz Offene Daten")
    assert len(described["description"]) >= 50
    assert "<script>alert" not in html


def test_a_restricted_dataset_is_absent_from_the_list_the_json_ld_and_the_sitemap(hub, catalog):
    assert "Geheimes Netz" not in hub.get("/datasets").text
    assert hub.get("/datasets/intern").status_code == 404
    public = hub.get("/datasets/luft").text
    assert "geheime-orte" not in public
    assert f"/datastreams/{catalog.secret_datastream}." not in public
    # Seen with a token, its page is for that reader only: no JSON-LD, not to be indexed.
    seen = hub.get("/datasets/intern", headers=hub.admin).text
    assert _jsonld(seen) == []
    assert '<meta name="robots" content="noindex">' in seen
    for headers in ({}, hub.admin):
        text = hub.get("/sitemap.xml", headers=headers).text
        assert "intern" not in text
        assert "geheime-orte" not in text


def test_robots_txt_keeps_crawlers_out_of_the_admin_faces_and_names_the_sitemap(hub):
    response = hub.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert "Allow: /" in lines
    assert "Disallow: /admin" in lines
    assert "Disallow: /api/admin" in lines
    assert f"Sitemap: {BASE}/sitemap.xml" in lines


def _locations(xml: str) -> dict[str, str | None]:
    root = ET.fromstring(xml)
    assert root.tag == f"{SITEMAP}urlset"
    found = {}
    for url in root.findall(f"{SITEMAP}url"):
        lastmod = url.find(f"{SITEMAP}lastmod")
        found[url.findtext(f"{SITEMAP}loc")] = None if lastmod is None else lastmod.text
    return found


def test_the_sitemap_lists_the_public_pages_with_their_last_change(hub, catalog):
    response = hub.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    found = _locations(response.text)
    assert set(found) == {
        f"{BASE}/",
        f"{BASE}/datasets",
        f"{BASE}/datasets/knapp",
        f"{BASE}/datasets/luft",
        f"{BASE}/collections/messstellen",
    }
    modified = hub.get("/api/admin/datasets/luft", headers=hub.admin).json()["modified_at"]
    lastmod = datetime.fromisoformat(found[f"{BASE}/datasets/luft"])
    assert abs(lastmod - datetime.fromisoformat(modified)) < timedelta(seconds=1)
    assert found[f"{BASE}/collections/messstellen"] is not None


def test_a_large_sitemap_becomes_an_index_of_pages(hub, catalog, monkeypatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 2)
    root = ET.fromstring(hub.get("/sitemap.xml").text)
    assert root.tag == f"{SITEMAP}sitemapindex"
    pages = [s.findtext(f"{SITEMAP}loc") for s in root.findall(f"{SITEMAP}sitemap")]
    assert pages == [f"{BASE}/sitemap-{n}.xml" for n in (1, 2, 3)]
    listed: list[str] = []
    for page in pages:
        listed += _locations(hub.get(page.removeprefix(BASE)).text)
    assert listed == [
        f"{BASE}/",
        f"{BASE}/datasets",
        f"{BASE}/datasets/knapp",
        f"{BASE}/datasets/luft",
        f"{BASE}/collections/messstellen",
    ]
    assert hub.get("/sitemap-4.xml").status_code == 404
    assert hub.get("/sitemap-0.xml").status_code == 404


def test_robots_and_sitemap_use_the_public_base_url(backend_settings):
    settings = backend_settings.model_copy(update={"base_url": "https://daten.example.de/hub/"})
    hub = HubClient(settings)
    try:
        robots = hub.get("/robots.txt").text.splitlines()
        assert "Disallow: /hub/admin" in robots
        assert "Sitemap: https://daten.example.de/hub/sitemap.xml" in robots
        assert "https://daten.example.de/hub/datasets" in _locations(hub.get("/sitemap.xml").text)
    finally:
        hub.close()
