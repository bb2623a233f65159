"""The store's bulk loader: ids reserved up front, values in the backend's own form."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import OperationalError

from cityhub.sensorthings.columns import instants
from cityhub.store import schema
from cityhub.store.bulk import BulkLoader
from conftest import POSTGRES_URL


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
