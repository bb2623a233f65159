"""A published GeoJSON file as a feature collection: upserted by key, missing ones gone."""

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


def test_a_file_in_another_coordinate_system_fails_naming_it(hub, toilets):
    toilets.source.serve(PATH, "geojson/toiletten-utm.json")
    failed = toilets.run("toiletten")
    assert failed.status == "failed"
    assert "EPSG::25832" in failed.error
    assert features_of(hub, "toiletten") == {}
