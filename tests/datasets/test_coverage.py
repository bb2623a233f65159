"""A dataset's coverage, derived from its content on both backends, and kept until its
collections are written again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from tests.features.helpers import add_collection, add_dataset, add_features, box, point

from cityhub.datasets.coverage import Coverage, Coverages, coverage
from cityhub.store import schema

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_an_empty_dataset_covers_nothing(hub):
    dataset = add_dataset(hub, "leer")
    assert hub.store.read_blocking(lambda c: coverage(c, dataset)) == Coverage()


def test_the_box_surrounds_current_features_and_the_span_their_times(hub):
    dataset = add_dataset(hub, "orte")
    other = add_dataset(hub, "anderswo")
    collection = add_collection(hub, dataset, "bezirke")
    add_features(
        hub,
        collection,
        [
            {"geometry": box(7.0, 51.1, 7.1, 51.2), "start": START},
            {"geometry": point(7.2, 51.15), "start": START, "end": START + timedelta(days=2)},
        ],
    )
    add_features(hub, add_collection(hub, other, "fern"), [{"geometry": point(9.0, 53.0)}])
    found = hub.store.read_blocking(lambda c: coverage(c, dataset))
    assert found == Coverage((7.0, 51.1, 7.2, 51.2), START, START + timedelta(days=2))


def test_a_kept_coverage_is_computed_again_once_a_collection_is_written(hub):
    dataset = add_dataset(hub, "orte")
    collection = add_collection(hub, dataset, "punkte")
    add_features(hub, collection, [{"geometry": point(7.0, 51.0)}])
    kept = Coverages()
    first = hub.store.read_blocking(lambda c: kept.get(c, dataset))
    assert first.bbox == (7.0, 51.0, 7.0, 51.0)
    add_features(hub, collection, [{"geometry": point(7.5, 51.5)}])
    assert hub.store.read_blocking(lambda c: kept.get(c, dataset)) == first
    stamp = datetime.now(UTC) + timedelta(seconds=1)
    table = schema.collections
    hub.store.write_blocking(
        lambda c: c.execute(update(table).where(table.c.id == collection).values(modified_at=stamp))
    )
    assert hub.store.read_blocking(lambda c: kept.get(c, dataset)).bbox == (7.0, 51.0, 7.5, 51.5)
