"""Writing feature collections: upserts by key, idempotence, gone and revived features."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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


def _boxed_keys(hub, bbox: str) -> set[str]:
    """Ids (or names) of the current features the items face finds in ``bbox``."""
    answer = hub.get("/features/collections/toiletten/items", params={"bbox": bbox, "limit": 1000})
    assert answer.status_code == 200, answer.text
    found = answer.json()["features"]
    return {f["properties"].get("id") or f["properties"]["name"] for f in found}


def _grid(count: int) -> list[FeatureRecord]:
    """``count`` points on a grid west of 7.1° E, and a line and a polygon east of it."""
    records = [
        FeatureRecord(
            {"id": str(i)},
            {"type": "Point", "coordinates": [7.0 + (i % 30) / 1000, 51.1 + (i // 30) / 1000]},
            key=str(i),
        )
        for i in range(count)
    ]
    line = {"type": "LineString", "coordinates": [[7.2, 51.2], [7.3, 51.3]]}
    square = [[[7.4, 51.4], [7.5, 51.4], [7.5, 51.5], [7.4, 51.5], [7.4, 51.4]]]
    records.append(FeatureRecord({"id": "line"}, line, key="line"))
    records.append(FeatureRecord({"id": "square"}, {"type": "Polygon", "coordinates": square}))
    return records


def test_a_bulk_write_leaves_every_geometry_found_by_box_searches(hub, collection):
    # Enough records for the bulk path, which indexes the boxes after the rows.
    _write(hub, collection, _grid(900))
    west = _boxed_keys(hub, "7.0,51.1,7.0095,51.2")
    assert west == {str(i) for i in range(900) if i % 30 < 10}
    assert _boxed_keys(hub, "7.25,51.25,7.26,51.26") == {"line"}
    assert _boxed_keys(hub, "7.45,51.45,7.46,51.46") == {"square"}
    # A single feature written afterwards is indexed as before (the row-by-row path).
    _write(hub, collection, [_toilet("late", "Spät", 7.6, 51.6)])
    assert _boxed_keys(hub, "7.59,51.59,7.61,51.61") == {"Spät"}
    # Moved in bulk: found where it is now, no longer where it was.
    moved = [FeatureRecord({"id": "0"}, {"type": "Point", "coordinates": [7.7, 51.7]}, key="0")]
    _write(hub, collection, moved + _grid(900)[1:])
    assert _boxed_keys(hub, "7.69,51.69,7.71,51.71") == {"0"}
    assert "0" not in _boxed_keys(hub, "7.0,51.1,7.0095,51.2")


def test_a_failed_bulk_write_keeps_the_geometry_index_working(sqlite_hub):
    def setup(connection):
        dataset = create_dataset(connection, slug="wc", title="WC", licence="dl-zero-de/2.0")
        return ensure_collection(connection, dataset, "toiletten", key_property="id")

    collection = sqlite_hub.store.write_blocking(setup)
    broken = [*_grid(900), FeatureRecord({"id": "x"}, None, key="x", thing_id=999_999)]
    with pytest.raises(IntegrityError):  # no Thing 999999: nothing of the write is kept
        _write(sqlite_hub, collection, broken)
    trigger = "SELECT count(*) FROM sqlite_master WHERE name = 'features_geom_insert'"
    assert sqlite_hub.store.read_blocking(lambda c: c.exec_driver_sql(trigger).scalar()) == 1
    assert _boxed_keys(sqlite_hub, "7.0,51.1,7.0095,51.2") == set()
    _write(sqlite_hub, collection, _grid(900))
    _write(sqlite_hub, collection, [_toilet("late", "Spät", 7.6, 51.6)])
    assert _boxed_keys(sqlite_hub, "7.59,51.59,7.61,51.61") == {"Spät"}
    assert len(_boxed_keys(sqlite_hub, "7.0,51.1,7.0095,51.2")) == 300
