"""The store's bulk loader: ids reserved up front, values in the backend's own form."""

from __future__ import annotations

import math
import random
import struct
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import OperationalError

from cityhub.sensorthings.columns import instants
from cityhub.store import bulk, schema
from cityhub.store.bulk import BulkLoader
from conftest import POSTGRES_URL
from sensorthings.helpers import create_thing, datastream_body, observation


def test_reserved_ids_are_new_and_never_reused(hub):
    things = schema.things

    def work(connection):
        loader = BulkLoader(connection)
        first = loader.reserve_ids(things, 3)
        loader.load(things, ("id", "name", "description"), [(i, "t", "d") for i in first])
        # An ordinary insert after the bulk load continues after its ids.
        after = connection.execute(insert(things).values(name="n", description="d"))
        return first, after.inserted_primary_key[0]

    first, after = hub.store.write_blocking(work)
    assert first == sorted(set(first))
    assert after > max(first)
    # The newest rows deleted: their ids are still not handed out again.
    hub.store.write_blocking(lambda c: c.execute(delete(things)))
    again = hub.store.write_blocking(lambda c: BulkLoader(c).reserve_ids(things, 2))
    assert min(again) > after
    assert hub.store.write_blocking(lambda c: BulkLoader(c).reserve_ids(things, 0)) == []


def test_times_stored_from_texts_equal_times_stored_from_datetimes(hub):
    texts = [
        "2026-11-26T10:00:00.250000Z",
        "0999-01-02T03:04:05.000001Z",
        "2026-11-26T23:59:59.999999Z",
    ]
    short = ["2026-11-26T10:00:00Z", "2026-01-01T00:00:00Z"]
    others = ["2026-11-26T11:00:00.25+01:00", "2026-11-26T10:00:00.5Z"]
    lower = ["2026-11-26t10:00:00.000000Z", "2026-11-26T10:00:00,000000Z"]

    def work(connection):
        loader = BulkLoader(connection)
        results = []
        for column in (texts, short, others, lower):
            values, rejected = instants(column, nullable=False)
            assert not rejected
            results.append((loader.times(values, column), loader.times(values)))
        return results

    for from_texts, from_values in hub.store.write_blocking(work):
        assert from_texts == from_values


def test_loaded_rows_read_back_through_the_schema(hub):
    things = schema.things
    rows = [(None, "a", "first", {"k": [1, 2]}), (None, "b", "second", None)]

    def work(connection):
        loader = BulkLoader(connection)
        ids = loader.reserve_ids(things, len(rows))
        documents = loader.documents([row[3] for row in rows])
        loaded = [(i, *row[1:3], d) for i, row, d in zip(ids, rows, documents, strict=True)]
        loader.load(things, ("id", "name", "description", "properties"), loaded)
        return ids

    ids = hub.store.write_blocking(work)
    stored = hub.store.read_blocking(
        lambda c: c.execute(
            select(things.c.id, things.c.name, things.c.properties).order_by(things.c.id)
        ).all()
    )
    assert [tuple(row) for row in stored] == [(ids[0], "a", {"k": [1, 2]}), (ids[1], "b", None)]
    count = hub.store.read_blocking(lambda c: c.scalar(select(func.count()).select_from(things)))
    assert count == 2


def test_a_connection_lost_during_a_load_is_a_database_error_and_the_writer_recovers(hub):
    if hub.store.backend != "postgresql":
        pytest.skip("only PostgreSQL connections can be cut from outside")
    store = hub.store
    things = schema.things
    rows = [(f"t{i}", "d") for i in range(10)]
    pid = store.write_blocking(lambda c: c.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(OperationalError):
        store.write_blocking(lambda c: BulkLoader(c).load(things, ("name", "description"), rows))
    store.write_blocking(lambda c: BulkLoader(c).load(things, ("name", "description"), rows))
    count = store.read_blocking(lambda c: c.scalar(select(func.count()).select_from(things)))
    assert count == 10
    # Over HTTP the same is a 503, and the next request goes through.
    pid = store.write_blocking(lambda c: c.exec_driver_sql("SELECT pg_backend_pid()").scalar())
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    body = [{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": [[1.0]]}]
    assert hub.post("/v1.1/CreateObservations", body).status_code == 503
    assert hub.post("/v1.1/CreateObservations", body).status_code == 400  # no Datastream 1


def _awkward_values() -> list[tuple]:
    """Rows of (result_number, result_string, result_json) the JSON form must carry exactly:
    floats of every magnitude, text that looks like numbers or JSON, control characters."""
    floats = [
        0.1, -0.0, 1.0, 5e-324, 1.7976931348623157e308, 2.0**53 + 2, 123456789.123456789,
        *(struct.unpack("<d", random.Random(seed).randbytes(8))[0] for seed in range(2000)),
    ]  # fmt: skip
    finite = [f for f in floats if math.isfinite(f)]
    texts = ["2026", "1.5e3", '{"a": 1}', '"quoted"', "null", "", "ä\u0000\n\t💧", "x" * 5000]
    rows = [(f, None, None) for f in finite]
    rows += [(None, t, None) for t in texts]
    rows += [(None, None, '{"nested": [1, 2.5, null, "s"]}'), (7, None, "[]"), (True, None, None)]
    return rows


def test_sqlite_loads_every_value_as_the_driver_would(sqlite_hub, monkeypatch):
    """On SQLite rows go to the database as JSON (``_sqlite_insert``): every value is stored
    as binding it would store it, across chunk boundaries, and bytes take the driver's way."""
    monkeypatch.setattr(bulk, "_SQLITE_CHUNK", 700)  # several chunks and a partial one,
    monkeypatch.setattr(bulk, "_SQLITE_CHUNK_BYTES", 20_000)  # each split by its size
    hub = sqlite_hub
    observations = schema.observations
    first_observation = observation(1.0, "2026-01-01T00:00:00Z")
    seeded = create_thing(hub, datastreams=[datastream_body("t", [first_observation])])
    datastream = seeded.datastreams[0]
    first = seeded.observations[datastream][0]
    feature = hub.get(f"/v1.1/Observations({first})/FeatureOfInterest").json()["@iot.id"]
    rows = _awkward_values()
    columns = ("datastream_id", "feature_of_interest_id", "phenomenon_time_start",
               "result_type", "result_number", "result_string", "result_json")  # fmt: skip

    def work(connection):
        loader = BulkLoader(connection)
        time = loader.times([datetime(2026, 1, 1, tzinfo=UTC)])[0]
        loader.load(observations, columns, [(datastream, feature, time, 0, *row) for row in rows])

    hub.store.write_blocking(work)
    stored = hub.store.read_blocking(
        lambda c: c.exec_driver_sql(
            "SELECT result_number, result_string, result_json FROM observations "
            "WHERE result_type = 0 ORDER BY id"
        ).all()
    )
    assert [tuple(row) for row in stored] == rows  # True is 1.0, 7 is 7.0: REAL affinity
    assert {type(row[0]) for row in stored} == {float, type(None)}

    dead_letters = schema.lorawan_dead_letters
    payloads = [bytes([0, 255, i]) for i in range(3)]

    def letters(connection):
        loader = BulkLoader(connection)
        now = loader.times([datetime(2026, 1, 1, tzinfo=UTC)])[0]
        names = ("integration", "network", "payload", "reason", "received_at", "last_attempt_at")
        loader.load(dead_letters, names, [("i", "ttn", p, "r", now, now) for p in payloads])

    hub.store.write_blocking(letters)
    kept = hub.store.read_blocking(
        lambda c: c.scalars(select(dead_letters.c.payload).order_by(dead_letters.c.id)).all()
    )
    assert [bytes(p) for p in kept] == payloads
