"""The downloads face: ``/downloads/collections/{slug}.{ext}``,
``/downloads/datastreams/{id}.{ext}`` and ``/downloads/multidatastreams/{id}.{ext}``
(``urls`` says where each lives).

Each request reads in one transaction: who may see what, whether the download exists, its
validators, then — unless the client's copy is current (304) or only the headers were asked
for (HEAD) — the body, streamed. Restricted data is as absent here as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub import conditional
from cityhub.auth import Authenticator
from cityhub.digits import is_digits
from cityhub.downloads import collections, datastreams, multi_datastreams, sensors, validators
from cityhub.downloads.observations import TimeRange
from cityhub.downloads.streaming import Download, DownloadResponse
from cityhub.downloads.urls import FORMATS, PREFIX
from cityhub.errors import BadRequest, NotFound, ServiceUnavailable
from cityhub.features import params as p
from cityhub.features.http import checked_params
from cityhub.features.sources import SENSORS
from cityhub.store.access import Hidden, hidden_datasets
from cityhub.store.database import Store
from cityhub.timeutil import parse_instant

_NO_PARAMETERS: frozenset[str] = frozenset()
_TIME_PARAMETERS = frozenset({"from", "to"})


#: A (Multi)Datastream download's producer: connection, id, extension, hidden, time range.
StreamProducer = Callable[[Connection, int, str, Hidden, TimeRange], Iterator[Any]]

#: Seconds a client turned away for too many downloads at once is asked to wait.
RETRY_AFTER = 10


class DownloadsFace:
    """Handlers of the downloads, bound to one store.

    A download holds a read connection for as long as its client reads, which may be
    minutes. So at most ``max_running`` run at once: slow clients cannot take every
    connection of the pool from the APIs; one more is told to come back (503, Retry-After).
    """

    def __init__(self, store: Store, auth: Authenticator, max_running: int) -> None:
        self.store, self.auth = store, auth
        self.max_running = max_running
        self.running = 0  # counted on the event loop only: no lock needed

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PREFIX + "/collections/{file}", self.collection, methods=["GET"]),
            Route(PREFIX + "/datastreams/{file}", self.datastream, methods=["GET"]),
            Route(PREFIX + "/multidatastreams/{file}", self.multi_datastream, methods=["GET"]),
        ]

    async def collection(self, request: Request) -> Response:
        checked_params(request, _NO_PARAMETERS)
        slug, extension = _split(request.path_params["file"], "collection")

        def produce(connection: Connection, hidden: Hidden) -> Iterator[Any]:
            if slug == SENSORS:
                return sensors.produce(connection, extension, hidden)
            return collections.produce(connection, slug, extension, hidden)

        return await self._download(request, produce)

    async def datastream(self, request: Request) -> Response:
        return await self._stream(request, "Datastream", datastreams.produce)

    async def multi_datastream(self, request: Request) -> Response:
        return await self._stream(request, "MultiDatastream", multi_datastreams.produce)

    async def _stream(
        self, request: Request, what: str, produce_stream: StreamProducer
    ) -> Response:
        """A (Multi)Datastream's Observations, ``what`` saying which in messages."""
        span = time_range(checked_params(request, _TIME_PARAMETERS))
        name, extension = _split(request.path_params["file"], what)
        # ASCII digits only: ``isdigit`` also admits "²", which ``int`` refuses.
        if not is_digits(name) or len(name) > 18:
            raise NotFound(f"no {what} '{name}': {what} ids are whole numbers")

        def produce(connection: Connection, hidden: Hidden) -> Iterator[Any]:
            return produce_stream(connection, int(name), extension, hidden, span)

        return await self._download(request, produce)

    async def _download(
        self, request: Request, produce: Callable[[Connection, Hidden], Iterator[Any]]
    ) -> Response:
        reader = (await self.auth.principal(request)).reader

        def run(connection: Connection) -> Iterator[Any]:
            yield from produce(connection, hidden_datasets(connection, reader))

        if self.running >= self.max_running:
            raise ServiceUnavailable(
                f"{self.running} downloads are running, as many as this hub serves at once; "
                f"try again in {RETRY_AFTER} seconds",
                retry_after=RETRY_AFTER,
            )
        self.running += 1
        download = Download(self.store, run, on_close=self._ended)
        try:
            return await self._answer(request, download)
        except BaseException:
            await download.aclose()  # idempotent: ends the transaction and frees the place
            raise

    async def _answer(self, request: Request, download: Download) -> Response:
        """The download's answer: 304, HEAD's headers, or the streamed body."""
        head = await download.head()
        headers = validators.headers(head)
        if conditional.not_modified(request.headers, head):
            await download.aclose()
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            await download.aclose()
            response = Response(headers=headers, media_type=head.media_type)
            del response.headers["content-length"]  # not known without making the body
            return response
        return DownloadResponse(download, headers, head.media_type)

    def _ended(self) -> None:
        self.running -= 1


def _split(file: str, what: str) -> tuple[str, str]:
    """``name.ext`` into its name and a known format's extension."""
    name, dot, extension = file.rpartition(".")
    if not dot or not name:
        raise NotFound(f"no {what} download '{file}': name the format, e.g. '{file}.csv'")
    if extension not in FORMATS:
        known = ", ".join(FORMATS)
        raise NotFound(f"no {what} download '{file}': the formats are {known}")
    return name, extension


def time_range(params: dict[str, list[str]]) -> TimeRange:
    """``from`` and ``to`` as instants; each a 400 naming it when it is not one."""
    found = {}
    for name in ("from", "to"):
        text = p.single(params, name)
        if text is not None:
            try:
                found[name] = parse_instant(text)
            except BadRequest as error:
                raise BadRequest(f"parameter '{name}': {error.message}") from None
    span = TimeRange(found.get("from"), found.get("to"))
    if span.start is not None and span.end is not None and span.start >= span.end:
        raise BadRequest("parameter 'from' must be before 'to'")
    return span
