"""Any GeoJSON, CSV or XLSX file by URL, read by the import readers, refreshed as a collection."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select
from tests.connectors.helpers import features_of, live

from cityhub.store import schema

URL = "https://opendata.attendorn.example/defibrillatoren.csv"
PATH = "/defibrillatoren.csv"
CSV = "text/csv; charset=windows-1252"
AED = {"type": "file", "url": URL, "key_property": "ID", "crs": "EPSG:25832", "every": "1d"}


@pytest.fixture
def dataset(hub):
    body = {"slug": "aed", "title": "Defibrillatoren", "licence": "dl-zero-de/2.0"}
    assert hub.post("/api/admin/datasets", json=body).status_code == 201
    return "aed"


def geometry_of(hub, key: str) -> dict:
    table = schema.features
    geom = hub.store.read_blocking(
        lambda c: c.scalar(select(table.c.geom).where(table.c.key == key))
    )
    return orjson.loads(geom)


def test_a_csv_in_utm_becomes_a_keyed_collection(hub, connectors, dataset):
    files = connectors({"aed": AED})
    files.source.serve(PATH, "file/defibrillatoren.csv", CSV)
    outcome = files.run("aed")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 3
    places = features_of(hub, "aed")
    assert set(places) == {"AED-01", "AED-02", "AED-03"}
    townhall = places["AED-01"]["properties"]
    assert townhall["Bezeichnung"] == "Rathaus"
    assert townhall["Zugang"] == "Mo-Fr 08:00-18:00"
    assert places["AED-01"]["provenance"]["source"] == URL
    lon, lat = geometry_of(hub, "AED-01")["coordinates"]
    # UTM 32N converted to WGS 84
    assert 7.8 < lon < 8.0
    assert 51.0 < lat < 51.2


def test_a_second_run_changes_nothing_and_a_later_file_updates(hub, connectors, dataset):
    files = connectors({"aed": {**AED, "name_property": "Bezeichnung"}})
    files.source.serve(PATH, "file/defibrillatoren.csv", CSV)
    files.run("aed")
    assert not files.run("aed").summary.changed
    files.source.serve(PATH, "file/defibrillatoren-later.csv", CSV)
    later = files.run("aed").summary
    assert (later.places_created, later.places_updated, later.places_gone) == (1, 1, 1)
    places = features_of(hub, "aed")
    assert places["AED-02"]["gone_at"] is not None
    assert places["AED-04"]["properties"]["name"] == "Biggolino"


def test_geojson_without_ids_is_keyed_by_content(hub, connectors, dataset):
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Bank am See", "material": "Holz"},
                "geometry": {"type": "Point", "coordinates": [7.86, 51.05]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Bank am Markt"},
                "geometry": {"type": "Point", "coordinates": [7.9, 51.12]},
            },
        ],
    }
    config = {"type": "file", "url": "https://example.org/baenke.geojson", "dataset": "aed"}
    files = connectors({"baenke": config})
    files.source.answer("/baenke.geojson", 200, orjson.dumps(document), "application/geo+json")
    assert files.run("baenke").summary.places_created == 2
    assert all(key.startswith("row-") for key in features_of(hub, "aed"))
    assert not files.run("baenke").summary.changed


def test_an_error_page_or_an_unreadable_file_fails_and_keeps_the_features(hub, connectors, dataset):
    files = connectors({"aed": AED})
    files.source.serve(PATH, "file/defibrillatoren.csv", CSV)
    files.run("aed")
    files.source.answer(PATH, 200, b"<html><title>Wartung</title></html>", "text/html")
    page = files.run("aed")
    assert page.status == "failed"
    assert "HTML page" in page.error
    files.source.answer(PATH, 200, b"", CSV)
    empty = files.run("aed")
    assert empty.status == "failed"
    assert "the file is empty" in empty.error
    files.source.answer(PATH, 200, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), CSV)
    legacy = files.run("aed")
    assert "legacy Excel (.xls)" in legacy.error
    assert all(p["gone_at"] is None for p in features_of(hub, "aed").values())


@live
def test_file_live(hub, connectors, dataset):
    """A real published file is still read by the import readers."""
    config = {
        "type": "file",
        "url": "https://raw.githubusercontent.com/datasets/geo-countries/master/data/countries.geojson",
        "key_property": "ISO_A3",
    }
    outcome = connectors({"aed": config}, live=True).run("aed")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created > 100
