"""The store: the only way the rest of the hub reaches the database.

Reads run in a worker thread, each in its own read transaction (a consistent snapshot for a
whole request); writes go through the group-commit writer. Callers hand over a function of a
``Connection``; all SQL lives in the store and model modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio.to_thread
import orjson
from sqlalchemy import Connection, Table, create_engine
from sqlalchemy.exc import OperationalError

from cityhub.settings import Settings
from cityhub.store import dialects
from cityhub.store.bulk import BulkLoader
from cityhub.store.dialects import StoreSetupError
from cityhub.store.writer import CommitListener, GroupCommitWriter

T = TypeVar("T")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_loads(value: Any) -> Any:
    """A stored JSON document. SQLite gives a document that is a bare number back as that
    number: its JSON columns have numeric affinity, which turns the text "7" into 7."""
    if isinstance(value, int | float):
        return value
    return orjson.loads(value)


class Store:
    """Engines for reading and writing one database, SQLite or PostgreSQL."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = settings.resolved_database_url
        json_options = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
        if url.startswith("sqlite"):
            self.backend = "sqlite"
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            options = {"connect_args": {"check_same_thread": False}, **json_options}
            self.read_engine = create_engine(url, pool_size=8, max_overflow=16, **options)
            self.write_engine = create_engine(url, pool_size=1, max_overflow=2, **options)
            dialects.configure_sqlite(self.read_engine, settings, "BEGIN")
            # Take the write lock up front: no deadlock when another process writes too.
            dialects.configure_sqlite(self.write_engine, settings, "BEGIN IMMEDIATE")
        elif url.startswith(("postgresql", "postgres")):
            self.backend = "postgresql"
            self.read_engine = create_engine(
                dialects.postgres_url(url),
                pool_size=8,
                max_overflow=16,
                pool_pre_ping=True,
                connect_args={"options": "-c timezone=UTC"},
                **json_options,
            )
            self.write_engine = self.read_engine
        else:
            raise StoreSetupError(
                f"Unsupported database URL {url!r}: use postgresql://user@host/db, or leave "
                "it unset for the embedded SQLite database."
            )
        self._writer = GroupCommitWriter(self.write_engine, settings.write_batch_max)

    @property
    def description(self) -> str:
        """The database in use, without credentials, for messages."""
        return self.read_engine.url.render_as_string(hide_password=True)

    def check_connection(self) -> None:
        """Fail early, with a message that says what to do, if the database is unreachable."""
        try:
            with self.read_engine.connect():
                pass
        except OperationalError as exc:
            raise StoreSetupError(
                f"Cannot connect to the database {self.description}: {exc.orig}. "
                "Check --database / CITYHUB_DATABASE_URL and that the server is running."
            ) from None

    def migrate(self) -> None:
        """Bring the schema to the newest revision (and enable PostGIS where needed)."""
        from cityhub.store.migrate import upgrade

        self.check_connection()
        upgrade(self)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in a read transaction in a worker thread."""
        return await anyio.to_thread.run_sync(self.read_blocking, fn)

    def read_blocking(self, fn: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as connection, connection.begin():
            return fn(connection)

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in the writer; returns after the transaction holding it committed."""
        return await self.submit_write(fn)

    def submit_write(self, fn: Callable[[Connection], T]) -> asyncio.Future[T]:
        """Queue ``fn`` with the writer now, to await later: writes queued one after another
        run in that order and may share a commit."""
        return asyncio.wrap_future(self._writer.submit(fn))

    def write_blocking(self, fn: Callable[[Connection], T]) -> T:
        return self._writer.submit(fn).result()

    def queue_write(self, fn: Callable[[Connection], T]) -> Future[T]:
        """Queue ``fn`` from any thread, without an event loop and without waiting: for
        callers that must never block (the MQTT network thread)."""
        return self._writer.submit(fn)

    def set_commit_listener(self, listener: CommitListener | None) -> None:
        """Receive what each commit created or updated (see ``store.changes``)."""
        self._writer.set_commit_listener(listener)

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Receive what each commit created or updated, beside any other listener."""
        self._writer.add_commit_listener(listener)

    def remove_commit_listener(self, listener: CommitListener) -> None:
        self._writer.remove_commit_listener(listener)

    def bulk_insert(self, connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        """Load many rows the fastest way the backend offers, in the caller's transaction."""
        BulkLoader(connection).insert(table, rows)

    def close(self) -> None:
        self._writer.close()
        self.read_engine.dispose()
        self.write_engine.dispose()
