"""Helpers of the connector tests: recorded sources and what the store holds."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cityhub.connectors.base import Connector, RunSummary
from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.context import RunContext
from cityhub.connectors.service import ConnectorService, RunOutcome
from cityhub.store import schema

FIXTURES = Path(__file__).parent.parent / "fixtures" / "connectors"
LIVE = os.environ.get("CITYHUB_LIVE_TESTS") == "1"
live = pytest.mark.skipif(not LIVE, reason="reaches the real service; set CITYHUB_LIVE_TESTS=1")


class Source:
    """A recorded source: answers each path with a fixture file, or with what a test sets.

    ``etag`` turns on conditional answers: a request carrying the current ETag gets 304.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []
        self.etag: str | None = None

    def serve(self, path: str, fixture: str, content_type: str = "application/json") -> None:
        body = (FIXTURES / fixture).read_bytes()
        self.answer(path, 200, body, content_type)

    def answer(
        self, path: str, status: int, body: bytes, content_type: str = "application/json"
    ) -> None:
        def respond(request: httpx.Request) -> httpx.Response:
            headers = {"Content-Type": content_type}
            if self.etag is not None:
                if request.headers.get("If-None-Match") == self.etag:
                    return httpx.Response(304, headers={"ETag": self.etag})
                headers["ETag"] = self.etag
            return httpx.Response(status, content=body, headers=headers)

        self.routes[path] = respond

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, json={"message": f"no route {request.url.path}"})
        return route(request)


class Connectors:
    """A connector service on the hub's store, its sources recorded."""

    def __init__(
        self, hub: Any, configs: dict[str, dict[str, Any]], live: bool = False, **settings: Any
    ) -> None:
        self.hub = hub
        self.source = Source()
        connectors = {name: ConnectorConfig.model_validate(c) for name, c in configs.items()}
        self.settings = hub.settings.model_copy(update={"connectors": connectors, **settings})
        transport = None if live else httpx.MockTransport(self.source.handle)
        self.service = ConnectorService(hub.store, self.settings, transport=transport, backoff=0)

    def run(self, name: str) -> RunOutcome:
        return self.hub.portal.call(self.service.run_now, name)

    def close(self) -> None:
        self.hub.portal.call(self.service.aclose)


def features_of(hub, collection: str) -> dict[str, dict[str, Any]]:
    """The features of a collection by key: properties, thing_id, provenance, gone_at."""
    features, collections = schema.features, schema.collections
    query = (
        select(
            features.c.key,
            features.c.properties,
            features.c.thing_id,
            features.c.provenance,
            features.c.gone_at,
        )
        .join(collections, collections.c.id == features.c.collection_id)
        .where(collections.c.slug == collection)
    )
    rows = hub.store.read_blocking(lambda c: list(c.execute(query).mappings()))
    return {row["key"]: dict(row) for row in rows}


def count(hub, table: Any) -> int:
    return hub.store.read_blocking(lambda c: c.scalar(select(func.count()).select_from(table)))


class Pause(Connector):
    """A connector that takes a moment and writes nothing: for scheduling tests."""

    default_url = "https://example.org/nothing"
    runs = 0

    async def run(self, context: RunContext) -> RunSummary:
        type(self).runs += 1
        await asyncio.sleep(0.05)
        return RunSummary()


class FixtureServer:
    """The recorded payloads over real HTTP on a free local port; ``override`` makes a path
    answer something else (an error page, a status)."""

    def __init__(self) -> None:
        self.overrides: dict[str, tuple[int, bytes, str]] = {}
        overrides = self.overrides

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in overrides:
                    status, body, content_type = overrides[path]
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        handler = partial(Handler, directory=str(FIXTURES))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{path.lstrip('/')}"

    def override(self, path: str, status: int, body: bytes, content_type: str) -> None:
        self.overrides["/" + path.lstrip("/")] = (status, body, content_type)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
