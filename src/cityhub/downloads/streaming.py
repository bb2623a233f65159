"""A download streamed out of one read transaction, without blocking the event loop.

``Store.read`` runs a function to its end in a worker thread; a download cannot: it is read
and sent chunk by chunk for minutes. Here the whole download is a generator that opens a
connection and a read transaction, first yields its ``Head`` (found, allowed, validators),
then the body in chunks of bytes. Each step runs in a worker thread (``anyio.to_thread``),
so the database is read and the chunk encoded off the event loop, one chunk ahead of the
client at most (the client's pace holds the next step back).

The transaction stays open exactly as long as the download: it ends when the last chunk is
sent, when the answer is a 304, and when the client goes away mid-download (the response
closes the generator whatever way sending ends, so the connection goes back to the pool at
once rather than when the garbage collector finds the abandoned generator).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import Connection
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from cityhub.store.database import Store


@dataclass(frozen=True)
class Head:
    """What is known of a download before its body: the answer's headers."""

    media_type: str
    filename: str
    etag: str
    last_modified: datetime | None
    #: Public data may be kept by shared caches; restricted data only by the client.
    public: bool


#: A download's producer on a connection: yields its ``Head``, then chunks of bytes.
Producer = Callable[[Connection], Iterator[Any]]

_DONE = object()


class Download:
    """A producer running in one read transaction, stepped from the event loop."""

    def __init__(
        self, store: Store, produce: Producer, on_close: Callable[[], None] | None = None
    ) -> None:
        self._steps = _in_transaction(store, produce)
        self._closed = False
        self._on_close = on_close

    async def head(self) -> Head:
        """Run the producer up to its head; its errors (404, 400) surface here, before any
        byte of the answer is sent."""
        try:
            head = await self._next()
        except BaseException:
            await self.aclose()
            raise
        if not isinstance(head, Head):
            await self.aclose()
            raise TypeError("a download producer must yield its Head first")
        return head

    async def chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._next()) is not _DONE:
            yield chunk

    async def aclose(self) -> None:
        """End the transaction (idempotent); runs even while the request is being cancelled."""
        if self._closed:
            return
        self._closed = True
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._steps.close)
        finally:
            if self._on_close is not None:
                self._on_close()

    async def _next(self) -> Any:
        # Not abandoned on cancellation: the step finishes before the generator is closed.
        return await anyio.to_thread.run_sync(next, self._steps, _DONE)


def _in_transaction(store: Store, produce: Producer) -> Generator[Any, None, None]:
    with store.read_engine.connect() as connection, connection.begin():
        yield from produce(connection)


class DownloadResponse(StreamingResponse):
    """A streamed answer that closes its download however sending ends."""

    def __init__(self, download: Download, headers: dict[str, str], media_type: str) -> None:
        super().__init__(download.chunks(), headers=headers, media_type=media_type)
        self.download = download

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.download.aclose()
