"""Latest values and ``$count`` answered from the statistics each Datastream keeps.

Conformance class request-data (OGC 18-088 clause 9.3): ``$expand=Observations($top=1;
$orderby=phenomenonTime desc)`` and ``$count=true`` must give exactly what the general path
gives, however the Observations were written, changed or deleted. Every check compares the
kept answer with the general path (an equivalent query it cannot serve) and with SQL.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import orjson
from sqlalchemy import func, select, text

from cityhub.sensorthings import derived
from cityhub.sensorthings.ingest import ObservationCreate
from cityhub.store import schema
from cityhub.store.migrate import MIGRATIONS

from .helpers import V, create_thing, created_id, datastream_body, observation
from .test_multidatastream import seeded as seed_multi_datastream

LATEST = "Observations($top=1;$orderby=phenomenonTime desc)"
# The same question in a form only the general path answers.
LATEST_GENERAL = "Observations($top=1;$orderby=phenomenonTime desc,id desc)"


def _get(hub: Any, url: str, **params: str) -> dict:
    response = hub.get(url, params=params or None)  # no params: keep those in the url
    assert response.status_code == 200, response.text
    return response.json()


def _all_pages(hub: Any, url: str, **params: str) -> list[dict]:
    """Every item of a collection, following nextLinks."""
    page = _get(hub, url, **params)
    items = page["value"]
    while "@iot.nextLink" in page:
        page = _get(hub, page["@iot.nextLink"].removeprefix("http://testserver"))
        items += page["value"]
    return items


def _asked_as_kept(general: Any) -> Any:
    """Answers of the general path with their nextLinks naming the order the kept path was
    asked for (they repeat the inner options as sent)."""
    text = orjson.dumps(general).decode()
    for tie_break in (",id+desc", "%2Cid+desc", "%2Cid%20desc", ",id%20desc"):
        text = text.replace(tie_break, "")
    return orjson.loads(text)


def _sql_latest(hub: Any) -> dict[int, int | None]:
    """Each Datastream's latest Observation id, straight from the observations table."""
    observations, datastreams = schema.observations, schema.datastreams

    def read(connection):
        latest = {}
        for datastream_id in connection.scalars(select(datastreams.c.id)):
            latest[datastream_id] = connection.scalar(
                select(observations.c.id)
                .where(observations.c.datastream_id == datastream_id)
                .order_by(observations.c.phenomenon_time_start.desc(), observations.c.id.desc())
                .limit(1)
            )
        return latest

    return hub.store.read_blocking(read)


def _sql_counts(hub: Any) -> tuple[int, dict[int, int]]:
    """COUNT(*) of all Observations and of each Datastream's."""
    observations, datastreams = schema.observations, schema.datastreams

    def read(connection):
        total = connection.scalar(select(func.count()).select_from(observations))
        counts = {
            datastream_id: connection.scalar(
                select(func.count()).where(observations.c.datastream_id == datastream_id)
            )
            for datastream_id in connection.scalars(select(datastreams.c.id))
        }
        return total, counts

    return hub.store.read_blocking(read)


def assert_consistent(hub: Any) -> None:
    """Latest values and counts from the kept statistics equal the general path and SQL."""
    kept = _all_pages(hub, f"{V}/Datastreams", **{"$expand": LATEST, "$top": "2"})
    general = _all_pages(hub, f"{V}/Datastreams", **{"$expand": LATEST_GENERAL, "$top": "2"})
    assert kept == _asked_as_kept(general)
    expected = _sql_latest(hub)
    assert {d["@iot.id"]: [o["@iot.id"] for o in d["Observations"]] for d in kept} == {
        k: [v] if v else [] for k, v in expected.items()
    }
    total, counts = _sql_counts(hub)
    assert _get(hub, f"{V}/Observations", **{"$count": "true", "$top": "0"})["@iot.count"] == total
    for datastream_id, count in counts.items():
        url = f"{V}/Datastreams({datastream_id})/Observations"
        assert _get(hub, url, **{"$count": "true", "$top": "0"})["@iot.count"] == count
    expanded = _all_pages(
        hub, f"{V}/Datastreams", **{"$expand": "Observations($count=true;$top=0)", "$top": "2"}
    )
    assert {d["@iot.id"]: d["Observations@iot.count"] for d in expanded} == counts


def _seed(hub: Any) -> tuple[list[int], dict[int, list[int]]]:
    """Three Datastreams: one with a tie on the latest phenomenonTime, one with intervals,
    one without Observations."""
    seeded = create_thing(
        hub,
        datastreams=[
            datastream_body(
                "tied",
                [
                    observation(1, "2024-01-01T00:00:00Z"),
                    observation(2, "2024-01-01T05:00:00Z"),
                    observation(3, "2024-01-01T05:00:00Z"),  # same time, higher id: latest
                    observation(4, "2024-01-01T03:00:00Z"),
                ],
            ),
            datastream_body(
                "intervals",
                [
                    observation(5, "2024-01-01T00:00:00Z/2024-01-03T00:00:00Z"),
                    observation(6, "2024-01-02T00:00:00Z/2024-01-02T01:00:00Z"),
                ],
            ),
            datastream_body("empty"),
        ],
    )
    return seeded.datastreams, seeded.observations


def test_latest_values_equal_the_general_path(hub):
    datastreams, observations = _seed(hub)
    tied, intervals, empty = datastreams
    assert_consistent(hub)
    kept = _get(hub, f"{V}/Datastreams", **{"$expand": LATEST, "$orderby": "id"})["value"]
    latest = {d["@iot.id"]: [o["result"] for o in d["Observations"]] for d in kept}
    assert latest == {tied: [3], intervals: [6], empty: []}
    assert kept[0]["Observations"][0] == _get(hub, f"{V}/Observations({observations[tied][2]})")


def test_latest_values_with_select_filter_and_nesting(hub):
    _seed(hub)
    create_thing(
        hub,
        "second",
        datastreams=[datastream_body("other", [observation(7, "2025-01-01T00:00:00Z")])],
    )
    variants = [
        {"$expand": "Observations($select=result,phenomenonTime;{})"},
        {"$select": "name", "$expand": "Observations({})"},
        {"$filter": "name ne 'intervals'", "$expand": "Observations({})"},
        {"$expand": "Observations({};$count=true)"},
        {"$expand": "Observations({};$expand=FeatureOfInterest($select=name))"},
        {"$expand": "Observations({};$select=result)", "$top": "1"},
    ]
    for variant in variants:
        kept = {k: v.format("$top=1;$orderby=phenomenonTime desc") for k, v in variant.items()}
        general = {
            k: v.format("$top=1;$orderby=phenomenonTime desc,id desc") for k, v in variant.items()
        }
        assert _all_pages(hub, f"{V}/Datastreams", **kept) == _asked_as_kept(
            _all_pages(hub, f"{V}/Datastreams", **general)
        ), variant
    things = {"$expand": f"Datastreams($expand={LATEST})"}
    general_things = {"$expand": f"Datastreams($expand={LATEST_GENERAL})"}
    assert _all_pages(hub, f"{V}/Things", **things) == _asked_as_kept(
        _all_pages(hub, f"{V}/Things", **general_things)
    )


def test_latest_values_page_through_many_datastreams(hub):
    bodies = [
        datastream_body(f"d{i}", [observation(i, f"2024-01-01T0{i % 10}:00:00Z")] if i % 3 else [])
        for i in range(25)
    ]
    create_thing(hub, datastreams=bodies)
    kept = _all_pages(hub, f"{V}/Datastreams", **{"$expand": LATEST, "$top": "4"})
    assert len(kept) == 25
    assert sum(1 for d in kept if d["Observations"]) == 16
    assert_consistent(hub)


def test_single_and_batched_inserts_move_the_latest(hub):
    datastreams, _ = _seed(hub)
    tied = datastreams[0]
    newer = {
        "result": 10,
        "phenomenonTime": "2024-01-02T00:00:00Z",
        "Datastream": {"@iot.id": tied},
    }
    older = {**newer, "result": 11, "phenomenonTime": "2023-01-01T00:00:00Z"}
    created_id(hub.post(f"{V}/Observations", newer))
    created_id(hub.post(f"{V}/Datastreams({tied})/Observations", older))
    assert_consistent(hub)
    bodies = [
        {
            "result": 20 + i,
            "phenomenonTime": f"2024-02-01T00:0{i % 3}:00Z",
            "Datastream": {"@iot.id": d},
        }
        for i in range(9)
        for d in datastreams
    ]
    creates = [ObservationCreate(body, {}) for body in bodies]
    records = hub.store.write_blocking(lambda c: ObservationCreate.run_batch(c, creates))
    assert len(records) == 27
    assert_consistent(hub)
    kept = _get(hub, f"{V}/Datastreams({tied})", **{"$expand": LATEST})["Observations"]
    # 00:02 is the latest time, of i = 2, 5 and 8; the tie goes to the highest id (i = 8).
    assert kept[0]["result"] == 28


def test_deleting_and_updating_observations_correct_the_latest(hub):
    datastreams, observations = _seed(hub)
    tied, intervals, _ = datastreams
    hub.delete(f"{V}/Observations({observations[tied][2]})")  # the latest of a tie
    assert_consistent(hub)
    latest = _get(hub, f"{V}/Datastreams({tied})", **{"$expand": LATEST})["Observations"]
    assert [o["result"] for o in latest] == [2]
    response = hub.patch(
        f"{V}/Observations({observations[tied][0]})", {"phenomenonTime": "2030-01-01T00:00:00Z"}
    )
    assert response.status_code == 200, response.text
    assert_consistent(hub)
    response = hub.patch(
        f"{V}/Observations({observations[tied][0]})", {"Datastream": {"@iot.id": intervals}}
    )
    assert response.status_code == 200, response.text
    assert_consistent(hub)
    for observation_id in observations[intervals]:
        hub.delete(f"{V}/Observations({observation_id})")
    assert_consistent(hub)


def test_relinking_observations_corrects_both_datastreams(hub):
    datastreams, observations = _seed(hub)
    tied, _, empty = datastreams
    moved = [{"@iot.id": observations[tied][2]}, {"@iot.id": observations[tied][0]}]
    response = hub.patch(f"{V}/Datastreams({empty})", {"Observations": moved})
    assert response.status_code == 200, response.text
    assert_consistent(hub)
    latest = _get(hub, f"{V}/Datastreams({empty})", **{"$expand": LATEST})["Observations"]
    assert [o["result"] for o in latest] == [3]


def test_cascading_deletes_keep_counts_exact(hub):
    datastreams, observations = _seed(hub)
    other = create_thing(
        hub, "other", datastreams=[datastream_body("x", [observation(9, "2024-06-01T00:00:00Z")])]
    )
    assert_consistent(hub)
    feature = _get(hub, f"{V}/Observations({observations[datastreams[0]][0]})/FeatureOfInterest")
    # A feature of its own for two Observations of different Datastreams, then deleted.
    foi = {
        "name": "spot",
        "description": "d",
        "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": [1, 2]},
    }
    first = {"result": 1, "phenomenonTime": "2031-01-01T00:00:00Z", "FeatureOfInterest": foi}
    created = hub.post(f"{V}/Datastreams({datastreams[0]})/Observations", first)
    assert created.status_code == 201, created.text
    foi_id = _get(
        hub, created.headers["location"].removeprefix("http://testserver") + "/FeatureOfInterest"
    )["@iot.id"]
    second = {
        "result": 2,
        "phenomenonTime": "2031-01-01T00:00:00Z",
        "FeatureOfInterest": {"@iot.id": foi_id},
    }
    created_id(hub.post(f"{V}/Datastreams({datastreams[1]})/Observations", second))
    assert_consistent(hub)
    assert hub.delete(f"{V}/FeaturesOfInterest({foi_id})").status_code == 200
    assert_consistent(hub)
    assert feature["@iot.id"] != foi_id  # the seeded Observations keep their feature
    assert hub.delete(f"{V}/Datastreams({datastreams[1]})").status_code == 200
    assert_consistent(hub)
    assert hub.delete(f"{V}/Things({other.thing})").status_code == 200
    assert_consistent(hub)
    total = _get(hub, f"{V}/Observations", **{"$count": "true"})["@iot.count"]
    assert total == 4


def test_filtered_counts_are_exact(hub):
    datastreams, _ = _seed(hub)
    tied = datastreams[0]
    url = f"{V}/Datastreams({tied})/Observations"
    since = {"$filter": "phenomenonTime ge 2024-01-01T03:00:00Z", "$count": "true", "$top": "1"}
    page = _get(hub, url, **since)
    assert page["@iot.count"] == 3
    assert len(page["value"]) == 1
    everywhere = _get(hub, f"{V}/Observations", **since)
    assert everywhere["@iot.count"] == 4  # and an interval of the other Datastream
    assert (
        _get(hub, f"{V}/Observations", **{"$count": "true", "$filter": "result gt 4"})["@iot.count"]
        == 2
    )
    expanded = _get(
        hub,
        f"{V}/Datastreams({tied})",
        **{"$expand": "Observations($filter=result lt 3;$count=true)"},
    )
    assert expanded["Observations@iot.count"] == 2


def _forget_statistics(hub: Any) -> None:
    table = schema.datastreams
    hub.store.write_blocking(
        lambda c: c.execute(
            table.update().values(
                observation_count=0, latest_observation_id=None, latest_phenomenon_time=None
            )
        )
    )


def test_bulk_loads_and_the_migration_compute_statistics(hub):
    """Observations loaded in bulk (the demo, benchmarks) and those present before the
    statistics existed (migration 0004) get them computed."""
    datastreams, _ = _seed(hub)
    _forget_statistics(hub)
    hub.store.write_blocking(lambda c: derived.recompute_datastream_extents(c, set(datastreams)))
    assert_consistent(hub)
    _forget_statistics(hub)
    path = MIGRATIONS / "versions" / "0004_datastream_statistics.py"
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    hub.store.write_blocking(lambda c: c.execute(text(migration._BACKFILL)))
    assert_consistent(hub)


def test_the_kept_statistics_are_what_answers(hub):
    """Latest values and unfiltered counts are read from the Datastream, not searched: an
    altered statistic shows through (and only in the shapes the statistics serve)."""
    datastreams, observations = _seed(hub)
    tied = datastreams[0]
    oldest = observations[tied][0]
    table = schema.datastreams
    hub.store.write_blocking(
        lambda c: c.execute(
            table.update()
            .where(table.c.id == tied)
            .values(latest_observation_id=oldest, observation_count=42)
        )
    )
    url = f"{V}/Datastreams({tied})"
    kept = _get(hub, url, **{"$expand": LATEST})["Observations"]
    assert [o["@iot.id"] for o in kept] == [oldest]
    general = _get(hub, url, **{"$expand": LATEST_GENERAL})["Observations"]
    assert [o["@iot.id"] for o in general] == [observations[tied][2]]
    count = _get(hub, f"{url}/Observations", **{"$count": "true"})["@iot.count"]
    assert count == 42
    filtered = {"$count": "true", "$filter": "result ge 0"}
    assert _get(hub, f"{url}/Observations", **filtered)["@iot.count"] == 4
    assert _get(hub, f"{V}/Observations", **{"$count": "true"})["@iot.count"] == 42 + 2


def test_observations_of_multi_datastreams_are_counted(hub):
    """Observations of a MultiDatastream count in ``Observations?$count=true`` and leave the
    Datastreams' statistics alone."""
    _seed(hub)
    _, multi = seed_multi_datastream(hub)
    assert_consistent(hub)
    url = f"{V}/MultiDatastreams({multi})/Observations"
    assert _get(hub, url, **{"$count": "true"})["@iot.count"] == 2
    created_id(hub.post(url, {"result": [1.0, 2, "N"], "phenomenonTime": "2027-01-01T00:00:00Z"}))
    assert_consistent(hub)
    assert _get(hub, f"{V}/Observations", **{"$count": "true", "$top": "0"})["@iot.count"] == 9
