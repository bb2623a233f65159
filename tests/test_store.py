"""The store: migrations match the schema, group commit isolates failures, spatial SQL on SQLite."""

import uuid
from concurrent.futures import Future
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, select, text

from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store
from cityhub.store.dialects import StoreSetupError
from cityhub.store.migrate import current_revision, head_revision, upgrade
from conftest import POSTGRES_URL


def _thing(name: str) -> dict:
    return {"name": name, "description": "d"}


def _ignored(object_, name, type_, reflected, compare_to) -> bool:
    """Objects the schema does not declare: PostGIS's table, R*Tree tables, spatial indexes."""
    if type_ == "table":
        return name != "spatial_ref_sys" and "_rtree" not in name
    return not (type_ == "index" and name and name.endswith("_geom"))


def test_migrations_create_exactly_the_schema(backend_settings):
    store = Store(backend_settings)
    try:
        assert current_revision(store) == head_revision(store)
        with store.read_engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": _ignored, "compare_type": False}
            )
            assert _named_alike(compare_metadata(context, schema.metadata)) == []
    finally:
        store.close()


def test_references_added_later_keep_their_action(tmp_path: Path):
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    try:
        store.migrate()
        with store.read_engine.connect() as connection:
            actions = {
                table: connection.execute(
                    text("SELECT * FROM pragma_foreign_key_list(:table)"), {"table": table}
                ).all()
                for table in ("things", "api_tokens")
            }
    finally:
        store.close()
    assert [(row[2], row[3], row[6]) for row in actions["things"]] == [
        ("datasets", "dataset_id", "SET NULL")
    ]
    assert [(row[2], row[3], row[6]) for row in actions["api_tokens"]] == [
        ("datasets", "dataset_id", "CASCADE")
    ]


def _named_alike(differences: list) -> list:
    """The differences without foreign keys that differ only in name and action: SQLite's
    reflection reads neither for a reference added with its column (``ALTER TABLE … ADD
    COLUMN … REFERENCES``); ``test_references_added_later_keep_their_action`` checks those."""

    def signature(key) -> tuple:
        return (
            key.parent.name,
            tuple(c.name for c in key.columns),
            key.referred_table.name,
        )

    removed = {signature(d[1]) for d in differences if d[0] == "remove_fk"}
    added = {signature(d[1]) for d in differences if d[0] == "add_fk"}
    alike = removed & added
    return [
        d for d in differences if not (d[0] in ("remove_fk", "add_fk") and signature(d[1]) in alike)
    ]


def test_group_commit_isolates_a_failing_write(backend_settings):
    """Writes queued together commit together, but a failing one leaves nothing behind."""
    store = Store(backend_settings)
    writer = store._writer
    things = schema.things

    def good(name):
        return lambda c: c.execute(insert(things).values(_thing(name))).inserted_primary_key[0]

    def bad(c):
        c.execute(insert(things).values(_thing("half-written")))
        raise ValueError("rejected")

    try:
        # Occupy the writer so the next three arrive as one batch.
        gate: Future = Future()
        blocker = writer.submit(lambda c: gate.result(timeout=30))
        futures = [writer.submit(good("a")), writer.submit(bad), writer.submit(good("b"))]
        gate.set_result(None)
        blocker.result()
        assert isinstance(futures[0].result(), int)
        with pytest.raises(ValueError, match="rejected"):
            futures[1].result()
        assert isinstance(futures[2].result(), int)
        names = store.read_blocking(lambda c: sorted(c.scalars(select(things.c.name))))
        assert names == ["a", "b"]
    finally:
        store.close()


def test_ids_are_never_reused(backend_settings):
    store = Store(backend_settings)
    things = schema.things
    try:
        first = store.write_blocking(
            lambda c: c.execute(insert(things).values(_thing("x"))).inserted_primary_key[0]
        )
        store.write_blocking(lambda c: c.execute(things.delete().where(things.c.id == first)))
        second = store.write_blocking(
            lambda c: c.execute(insert(things).values(_thing("y"))).inserted_primary_key[0]
        )
        assert second > first
    finally:
        store.close()


def test_migrating_observations_keeps_their_ids_from_being_reused(tmp_path: Path):
    """SQLite alters the observations table by copying it; its AUTOINCREMENT counter stays."""
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    upgrade(store, "0001")
    rows = [
        "INSERT INTO things (name, description) VALUES ('t', 'd')",
        "INSERT INTO sensors (name, description, encoding_type, metadata) "
        "VALUES ('s', 'd', 'e', '1')",
        "INSERT INTO observed_properties (name, definition, description) VALUES ('p', 'd', 'd')",
        "INSERT INTO datastreams (name, description, unit_of_measurement, observation_type, "
        "thing_id, sensor_id, observed_property_id) VALUES ('d', 'd', '{}', 'o', 1, 1, 1)",
        "INSERT INTO features_of_interest (name, description, encoding_type, feature) "
        "VALUES ('f', 'd', 'e', '{}')",
    ]
    observation = (
        "INSERT INTO observations (datastream_id, phenomenon_time_start, result_type, "
        "feature_of_interest_id) VALUES (1, '2026-01-01 00:00:00.000000', 0, 1)"
    )

    def seed(connection):
        for statement in [*rows, observation, observation, observation]:
            connection.execute(text(statement))
        connection.execute(text("DELETE FROM observations WHERE id > 1"))

    try:
        store.write_blocking(seed)
        upgrade(store)
        new_id = store.write_blocking(
            lambda c: c.execute(text(observation + " RETURNING id")).scalar()
        )
        assert new_id == 4
    finally:
        store.close()


def test_spatial_functions_agree_on_both_backends(backend_settings):
    store = Store(backend_settings)
    square = '{"type":"Polygon","coordinates":[[[7,51],[7.2,51],[7.2,51.2],[7,51.2],[7,51]]]}'
    point = '{"type":"Point","coordinates":[7.1,51.1]}'
    outside = '{"type":"Point","coordinates":[8,52]}'

    def geometry(value):
        return func.ST_GeomFromGeoJSON(value)

    def query(c):
        return c.execute(
            select(
                func.ST_Contains(geometry(square), geometry(point)),
                func.ST_Within(geometry(point), geometry(square)),
                func.ST_Intersects(geometry(square), geometry(outside)),
                func.ST_Disjoint(geometry(square), geometry(outside)),
            )
        ).one()

    try:
        assert [bool(v) for v in store.read_blocking(query)] == [True, True, False, True]
    finally:
        store.close()


def test_sqlite_keeps_a_bounding_box_index_of_geometries(tmp_path: Path):
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    store.migrate()
    row = {
        "name": "Gauge",
        "description": "d",
        "encoding_type": "application/geo+json",
        "location": {"type": "Point", "coordinates": [7.15, 51.14]},
        "geom": '{"type":"Point","coordinates":[7.15,51.14]}',
    }
    try:
        location_id = store.write_blocking(
            lambda c: c.execute(insert(schema.locations).values(row)).inserted_primary_key[0]
        )
        boxes = store.read_blocking(
            lambda c: c.execute(text("SELECT * FROM locations_geom_rtree")).all()
        )
        assert len(boxes) == 1
        assert boxes[0][0] == location_id
        assert boxes[0][1] == pytest.approx(7.15)
        assert boxes[0][3] == pytest.approx(51.14)
        store.write_blocking(lambda c: c.execute(schema.locations.delete()))
        assert (
            store.read_blocking(
                lambda c: c.execute(text("SELECT count(*) FROM locations_geom_rtree")).scalar()
            )
            == 0
        )
    finally:
        store.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path):
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    store.migrate()
    try:
        mode = store.read_blocking(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
        keys = store.read_blocking(lambda c: c.exec_driver_sql("PRAGMA foreign_keys").scalar())
        assert (mode, keys) == ("wal", 1)
    finally:
        store.close()


def test_unreachable_database_gives_a_clear_message(tmp_path: Path):
    settings = load_settings(
        {"data_dir": tmp_path, "database_url": "postgresql://nobody@127.0.0.1:1/none"}, environ={}
    )
    store = Store(settings)
    with pytest.raises(StoreSetupError, match="Cannot connect to the database"):
        store.migrate()
    store.close()


def test_unsupported_database_url_is_rejected(tmp_path: Path):
    settings = load_settings({"data_dir": tmp_path, "database_url": "mysql://x@y/z"}, environ={})
    with pytest.raises(StoreSetupError, match="Unsupported database URL"):
        Store(settings)


def test_a_write_raising_stop_iteration_still_answers(tmp_path: Path):
    """asyncio cannot carry StopIteration; the writer must not leave such a request hanging."""
    import asyncio

    store = Store(load_settings({"data_dir": tmp_path}, environ={}))

    def broken(connection):
        return next(iter([]))

    async def attempt():
        with pytest.raises(RuntimeError, match="write failed"):
            await asyncio.wait_for(store.write(broken), timeout=10)

    try:
        asyncio.run(attempt())
    finally:
        store.close()


def test_postgis_that_the_role_may_not_create_is_explained(postgres_database):
    """A role without the right to create PostGIS gets the exact statement a superuser runs."""
    name = f"cityhub_nogis_{uuid.uuid4().hex[:8]}"
    role = f"cityhub_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    url = POSTGRES_URL.rsplit("/", 1)[0].replace("postgres@", f"{role}@") + f"/{name}"
    store = Store(load_settings({"database_url": url}, environ={}))
    try:
        with pytest.raises(StoreSetupError) as info:
            store.migrate()
        message = str(info.value)
        assert f'may not create the PostGIS extension in database "{name}"' in message
        assert f'psql -d {name} -c "CREATE EXTENSION postgis;"' in message
    finally:
        store.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_request_whose_client_left_is_skipped_and_the_writer_goes_on(tmp_path: Path):
    store = Store(load_settings({"data_dir": tmp_path}, environ={}))
    store.migrate()
    writer = store._writer
    things = schema.things
    try:
        gate: Future = Future()
        blocker = writer.submit(lambda c: gate.result(timeout=30))
        abandoned = writer.submit(lambda c: c.execute(insert(things).values(_thing("gone"))))
        assert abandoned.cancel()  # what asyncio does when the client disconnects
        gate.set_result(None)
        blocker.result(timeout=30)
        later = writer.submit(lambda c: c.execute(insert(things).values(_thing("later"))))
        later.result(timeout=30)
        names = store.read_blocking(lambda c: list(c.scalars(select(things.c.name))))
        assert names == ["later"]
    finally:
        store.close()


def test_the_writer_survives_a_lost_database_connection(backend_settings):
    if backend_settings.database_url is None:
        pytest.skip("only PostgreSQL connections can be cut from outside")
    store = Store(backend_settings)
    things = schema.things

    def insert_thing(name):
        return lambda c: c.execute(insert(things).values(_thing(name)))

    try:
        pid = store.write_blocking(lambda c: c.exec_driver_sql("SELECT pg_backend_pid()").scalar())
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(Exception, match=r"not available|terminat|closed"):
            store.write_blocking(insert_thing("lost"))
        store.write_blocking(insert_thing("after"))
        names = store.read_blocking(lambda c: list(c.scalars(select(things.c.name))))
        assert names == ["after"]
    finally:
        store.close()
