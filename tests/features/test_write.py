"""Writing feature collections: upserts by key, idempotence, gone and revived features."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cityhub.datasets.manage import create_dataset
from cityhub.features.write import (
    FeatureRecord,
    GeometryError,
    check_geometry,
    ensure_collection,
    write_features,
)
from cityhub.store import schema

SOURCE = {"connector": "toiletten", "source": "https://example.org/wc.json"}


def _toilet(key: str, name: str, lon: float = 7.0837, lat: float = 51.1652) -> FeatureRecord:
    return FeatureRecord(
        properties={"name": name, "barrierefrei": True, "gebuehr": 0.5},
        geometry={"type": "Point", "coordinates": [lon, lat]},
        key=key,
    )


@pytest.fixture
def collection(hub):
    def setup(connection):
        dataset = create_dataset(connection, slug="wc", title="WC", licence="dl-zero-de/2.0")
        return ensure_collection(connection, dataset, "toiletten", key_property="id")

    return hub.store.write_blocking(setup)


def _write(hub, collection, records, **options):
    return hub.store.write_blocking(
        lambda c: write_features(c, collection, records, provenance=SOURCE, **options)
    )


def _features(hub):
    features = schema.features
    query = select(features.c.key, features.c.properties, features.c.gone_at).order_by(
        features.c.key
    )
    return hub.store.read_blocking(lambda c: [dict(r) for r in c.execute(query).mappings()])


def test_a_second_write_of_the_same_records_changes_nothing(hub, collection):
    records = [_toilet("1", "Neumarkt"), _toilet("2", "Ohligs", 7.0085, 51.1611)]
    assert _write(hub, collection, records).as_dict() == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "gone": 0,
    }
    assert _write(hub, collection, records).as_dict() == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "gone": 0,
    }
    assert [f["key"] for f in _features(hub)] == ["1", "2"]


def test_a_changed_record_updates_its_feature_in_place(hub, collection):
    _write(hub, collection, [_toilet("1", "Neumarkt")])
    moved = _write(hub, collection, [_toilet("1", "Neumarkt", 7.0840, 51.1650)])
    renamed = _write(hub, collection, [_toilet("1", "Am Neumarkt", 7.0840, 51.1650)])
    assert (moved.updated, renamed.updated) == (1, 1)
    assert [f["properties"]["name"] for f in _features(hub)] == ["Am Neumarkt"]


def test_features_the_source_stopped_listing_are_marked_gone_and_revived(hub, collection):
    _write(hub, collection, [_toilet("1", "Neumarkt"), _toilet("2", "Ohligs")])
    summary = _write(hub, collection, [_toilet("1", "Neumarkt")], mark_missing_gone=True)
    assert (summary.unchanged, summary.gone) == (1, 1)
    gone = {f["key"]: f["gone_at"] for f in _features(hub)}
    assert gone["1"] is None
    assert isinstance(gone["2"], datetime)
    assert gone["2"].tzinfo == UTC
    again = _write(hub, collection, [_toilet("1", "Neumarkt")], mark_missing_gone=True)
    assert again.gone == 0  # already gone: not counted twice
    back = _write(hub, collection, [_toilet("1", "Neumarkt"), _toilet("2", "Ohligs")])
    assert back.updated == 1
    assert all(f["gone_at"] is None for f in _features(hub))


def test_a_key_named_twice_in_one_write_counts_once_with_its_last_record(hub, collection):
    summary = _write(hub, collection, [_toilet("1", "alt"), _toilet("1", "neu")])
    assert summary.created == 1
    assert [f["properties"]["name"] for f in _features(hub)] == ["neu"]


def test_unkeyed_records_are_always_new_and_carry_their_provenance(hub, collection):
    record = FeatureRecord({"name": "Bank"}, {"type": "Point", "coordinates": [7.08, 51.17]})
    assert _write(hub, collection, [record, record]).created == 2
    stored = hub.store.read_blocking(
        lambda c: c.execute(select(schema.features.c.provenance)).scalars().all()
    )
    assert stored == [SOURCE, SOURCE]


def test_a_collection_slug_of_another_dataset_is_refused(hub, collection):
    def other(connection):
        dataset = create_dataset(connection, slug="x", title="X", licence="cc-zero")
        return ensure_collection(connection, dataset, "toiletten")

    with pytest.raises(ValueError, match="belongs to another dataset"):
        hub.store.write_blocking(other)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"type": "Point", "coordinates": [51.17, 97.08]}, "outside WGS 84"),
        ({"type": "Point"}, "not a valid GeoJSON Point"),
        ({"type": "Circle", "coordinates": [7, 51]}, "must be a GeoJSON geometry"),
        ({"type": "Polygon", "coordinates": []}, "empty geometry"),
    ],
)
def test_bad_geometries_are_refused_saying_why(value, says):
    with pytest.raises(GeometryError, match=says):
        check_geometry(value)
