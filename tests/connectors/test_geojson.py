"""A published GeoJSON file (type ``geojson``, the file connector by its older name) as a
feature collection: upserted by key, missing ones gone, other coordinate systems transformed."""

from __future__ import annotations

import pytest
from tests.connectors.helpers import features_of

from cityhub.datasets import create_dataset

PATH = "/opendata/toiletten.geojson"


@pytest.fixture
def toilets(hub, connectors):
    hub.store.write_blocking(
        lambda c: create_dataset(c, slug="wc", title="Toiletten", licence="dl-zero-de/2.0")
    )
    config = {
        "type": "geojson",
        "url": "https://daten.solingen.example" + PATH,
        "dataset": "wc",
        "collection": "toiletten",
        "key_property": "toilette_id",
        "name_property": "bezeichnung",
        "every": "1d",
    }
    return connectors({"toiletten": config})


def test_features_are_keyed_refreshed_and_marked_gone(hub, toilets):
    toilets.source.serve(PATH, "geojson/toiletten.json")
    first = toilets.run("toiletten")
    assert first.status == "ok", first.error
    assert first.summary.places_created == 3
    assert first.summary.flagged == 2  # a latitude of 151 and a feature without a key
    features = features_of(hub, "toiletten")
    neumarkt = features["WC-001"]
    assert neumarkt["properties"]["name"] == "Neumarkt"
    assert neumarkt["properties"]["barrierefrei"] is True
    assert neumarkt["provenance"]["source"].endswith(PATH)

    assert toilets.run("toiletten").summary.places_unchanged == 3

    toilets.source.serve(PATH, "geojson/toiletten-later.json")
    later = toilets.run("toiletten").summary
    assert (later.places_updated, later.places_unchanged, later.places_gone) == (1, 1, 1)
    features = features_of(hub, "toiletten")
    assert features["WC-002"]["properties"]["gebuehr_eur"] == 0.5
    assert features["WC-003"]["gone_at"] is not None


def test_a_file_in_another_coordinate_system_is_transformed_to_wgs84(hub, toilets):
    # German GIS exports often carry an old-style crs member naming ETRS89 / UTM 32N.
    toilets.source.serve(PATH, "geojson/toiletten-utm.json")
    run = toilets.run("toiletten")
    assert run.status == "ok", run.error
    geometry = hub.get("/features/collections/toiletten/items").json()["features"][0]["geometry"]
    lon, lat = geometry["coordinates"]
    assert 7.0 < lon < 7.2
    assert 51.1 < lat < 51.2
