"""Group commit: one writer thread commits many requests in one transaction.

A rejected request leaves nothing behind while its neighbours still commit (see ``_commit``);
every request is acknowledged only after the commit that holds it.
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
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy import Connection, Engine

from cityhub.errors import ServiceUnavailable
from cityhub.store.changes import CHANGES_KEY, Change

T = TypeVar("T")
WriteFn = Callable[[Connection], Any]
CommitListener = Callable[[list[Change]], None]


@runtime_checkable
class BatchableWrite(Protocol):
    """A write that can also run together with others of its kind, in fewer statements.

    ``run_batch`` gets every consecutive queued write with the same ``batch_key`` and returns
    their results in order; if it raises, the writer redoes each write alone (``__call__``)
    in its own savepoint, so only the faulty one fails.
    """

    batch_key: str

    def __call__(self, connection: Connection) -> Any: ...

    @classmethod
    def run_batch(cls, connection: Connection, writes: list[Any]) -> list[Any]: ...


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
        self._listener: CommitListener | None = None
        #: Listeners besides the one of ``set_commit_listener`` (e.g. the screens' feed).
        self._extra_listeners: tuple[CommitListener, ...] = ()

    def set_commit_listener(self, listener: CommitListener | None) -> None:
        """Hand the changes of every commit to ``listener`` (called in the writer thread, so
        it must only queue them), or stop doing so with ``None``."""
        self._listener = listener

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Hand the changes of every commit to ``listener`` as well (in the writer thread)."""
        self._extra_listeners = (*self._extra_listeners, listener)

    def remove_commit_listener(self, listener: CommitListener) -> None:
        self._extra_listeners = tuple(x for x in self._extra_listeners if x is not listener)

    def _current_listener(self) -> CommitListener | None:
        """The listener of ``set_commit_listener`` and the added ones, as one (or None)."""
        extra = self._extra_listeners
        if not extra:
            return self._listener
        listeners = (self._listener, *extra) if self._listener is not None else extra

        def every(changes: list[Change]) -> None:
            for listener in listeners:
                try:
                    listener(changes)
                except Exception:  # one listener's fault must not cost the others
                    log.exception("a commit listener failed")

        return every

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
        """Serve batches until closed. The thread never dies: if the database connection
        fails, the batch is answered with an error and the next batch reconnects."""
        connection: Connection | None = None
        while True:
            batch, stop = self._take_batch()
            # A request whose client went away (its future cancelled) is not written.
            batch = [item for item in batch if item[1].set_running_or_notify_cancel()]
            if batch:
                try:
                    if connection is None:
                        connection = self._engine.connect()
                    self._commit(connection, batch)
                except Exception as exc:
                    log.exception("the writer lost its database connection")
                    self._fail(batch, exc)
                    connection = self._discard(connection)
            if stop:
                self._discard(connection)
                return

    @staticmethod
    def _fail(batch: list[tuple[WriteFn, Future[Any]]], exc: Exception) -> None:
        error = ServiceUnavailable(f"the database is not available: {type(exc).__name__}")
        for _, future in batch:
            if not future.done():
                future.set_exception(error)

    @staticmethod
    def _discard(connection: Connection | None) -> None:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a broken connection may fail to close; it is dropped anyway
                log.debug("closing a broken connection failed", exc_info=True)

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
        """Commit the batch at once; if any part fails, redo each part in its own savepoint.

        Rejected requests are rare on the ingest path, so the common case pays for no
        savepoints; the rare case pays for running the batch twice.
        """
        listener = self._current_listener()
        self._start_recording(connection, listener)
        try:
            with connection.begin():
                outcomes = self._run_grouped(connection, batch)
        except Exception as exc:
            self._start_recording(connection, listener)  # the failed attempt left nothing
            if len(batch) == 1:
                outcomes = [(batch[0][1], None, exc)]
            else:
                outcomes = self._commit_isolated(connection, batch)
        changes = connection.info.pop(CHANGES_KEY, None)
        self._resolve(outcomes)
        if listener is not None and changes:
            try:
                listener(changes)
            except Exception:  # a listener's fault must not stop the writer
                log.exception("the commit listener failed")

    @staticmethod
    def _start_recording(connection: Connection, listener: CommitListener | None) -> None:
        if listener is None:
            connection.info.pop(CHANGES_KEY, None)
        else:
            connection.info[CHANGES_KEY] = []

    @staticmethod
    def _resolve(outcomes: list[tuple[Future[Any], Any, BaseException | None]]) -> None:
        for future, result, error in outcomes:
            if error is None:
                future.set_result(result)
            elif isinstance(error, StopIteration):
                # asyncio cannot carry StopIteration through a future; it would never resolve.
                future.set_exception(RuntimeError(f"write failed: {error!r}"))
            else:
                future.set_exception(error)

    @staticmethod
    def _run_grouped(
        connection: Connection, batch: list[tuple[WriteFn, Future[Any]]]
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        """Run the batch; consecutive batchable writes of one kind run as one group."""
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        index = 0
        while index < len(batch):
            fn, future = batch[index]
            if not isinstance(fn, BatchableWrite):
                outcomes.append((future, fn(connection), None))
                index += 1
                continue
            end = index + 1
            while end < len(batch) and getattr(batch[end][0], "batch_key", None) == fn.batch_key:
                end += 1
            group = batch[index:end]
            results = type(fn).run_batch(connection, [item for item, _ in group])
            outcomes.extend((f, r, None) for (_, f), r in zip(group, results, strict=True))
            index = end
        return outcomes

    def _commit_isolated(
        self, connection: Connection, batch: list[tuple[WriteFn, Future[Any]]]
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        try:
            with connection.begin():
                return [self._run_in_savepoint(connection, *item) for item in batch]
        except Exception as exc:
            log.exception("commit of a batch of %d writes failed", len(batch))
            connection.info.pop(CHANGES_KEY, None)
            return [(future, None, exc) for _, future in batch]

    @staticmethod
    def _run_in_savepoint(
        connection: Connection, fn: WriteFn, future: Future[Any]
    ) -> tuple[Future[Any], Any, BaseException | None]:
        changes = connection.info.get(CHANGES_KEY)
        mark = 0 if changes is None else len(changes)
        savepoint = connection.begin_nested()
        try:
            result = fn(connection)
        except Exception as exc:
            savepoint.rollback()
            if changes is not None:
                del changes[mark:]  # what the rejected request recorded never happened
            return future, None, exc
        savepoint.commit()
        return future, result, None
