"""Group commit: one writer thread commits many requests in one transaction.

Each request runs in its own savepoint, so a rejected request leaves nothing behind while its
neighbours still commit; every request is acknowledged only after the commit that holds it.
One transaction per observation caps at a few thousand per second on PostgreSQL; batching
what arrives while the previous commit is in flight lifts that ceiling without giving up
durability. On SQLite the same thread is the "one writer at a time".
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

T = TypeVar("T")
WriteFn = Callable[[Connection], Any]

log = logging.getLogger(__name__)

_STOP = object()


class WriterStopped(RuntimeError):
    """The writer was closed before the request could be committed."""


class GroupCommitWriter:
    """Runs write functions on one connection, committing each batch once."""

    def __init__(self, engine: Engine, max_batch: int) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: WriteFn) -> Future[Any]:
        """Queue ``fn(connection)``; the future resolves after its transaction commits."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise WriterStopped("the store is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cityhub-writer")
                self._thread.daemon = True
                self._thread.start()
        self._queue.put((fn, future))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _run(self) -> None:
        with self._engine.connect() as connection:
            while True:
                batch, stop = self._take_batch()
                if batch:
                    self._commit(connection, batch)
                if stop:
                    return

    def _take_batch(self) -> tuple[list[tuple[WriteFn, Future[Any]]], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _commit(self, connection: Connection, batch: list[tuple[WriteFn, Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            with connection.begin():
                if len(batch) == 1:
                    fn, future = batch[0]
                    outcomes.append((future, fn(connection), None))
                else:
                    outcomes = [self._run_in_savepoint(connection, *item) for item in batch]
        except Exception as exc:
            if len(batch) > 1:
                log.exception("commit of a batch of %d writes failed", len(batch))
            outcomes = [(future, None, exc) for _, future in batch]
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    @staticmethod
    def _run_in_savepoint(
        connection: Connection, fn: WriteFn, future: Future[Any]
    ) -> tuple[Future[Any], Any, BaseException | None]:
        savepoint = connection.begin_nested()
        try:
            result = fn(connection)
        except Exception as exc:
            savepoint.rollback()
            return future, None, exc
        savepoint.commit()
        return future, result, None
