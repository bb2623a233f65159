"""The public face of screens: the page, its state as JSON, the live channel, the heartbeat.

No token is needed and none is used: a screen shows public data only (``state`` reads as the
anonymous reader). The live channel is server-sent events; each stream ends after
``STREAM_SECONDS`` and the browser reconnects at once, so a proxy's idle timeout or a server
shutdown never waits long on a screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cityhub.errors import BadRequest, NotFound
from cityhub.pages import client_messages, language_of, render
from cityhub.screens import layouts
from cityhub.screens.live import GONE, ScreenFeed
from cityhub.screens.options import is_plain
from cityhub.screens.state import ScreenState
from cityhub.timeutil import format_instant
from cityhub.web import JSONResponse, read_json

#: Seconds one event stream lasts before the browser opens the next.
STREAM_SECONDS = 25.0
#: Seconds between two pings on a quiet stream: the page counts a silent stream as lost.
PING_SECONDS = 5.0


def base_url(request: Request, configured: str | None) -> str:
    """The hub's public URL (setting ``base_url``, else as this request reached it)."""
    if configured:
        return configured.rstrip("/")
    # The hub's own prefix (behind a proxy), not that of the /api mount this may run in.
    root = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    return f"{request.url.scheme}://{request.url.netloc}{root}".rstrip("/")


class ScreensFace:
    """``/screens/{slug}`` and ``/screens/sw.js``; the JSON routes through ``api_router``."""

    def __init__(self, feed: ScreenFeed) -> None:
        self.feed = feed

    def routes(self) -> list[Route]:
        return [
            Route("/screens/sw.js", self.service_worker, methods=["GET"]),
            Route("/screens/{slug}", self.page, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        language = language_of(request)
        settings = self.feed.settings
        found = await self.feed.store.read(lambda c: layouts.one(c, slug, 0))
        return render(
            request,
            "screens/screen.html",
            status_code=200 if found else 404,
            slug=slug,
            screen=found,
            messages=client_messages(language, "screens."),
            heartbeat_seconds=settings.screen_heartbeat_seconds,
            timezone=settings.time_zone,
        )

    async def service_worker(self, request: Request) -> Response:
        script = resources.files("cityhub").joinpath("static/screens/sw.js").read_bytes()
        headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/screens/"}
        return Response(script, media_type="text/javascript", headers=headers)


def api_router(feed: ScreenFeed) -> APIRouter:
    """``/api/screens/{slug}`` (state), ``/events`` (live), ``/heartbeat``."""
    router = APIRouter(tags=["screens"])
    settings = feed.settings

    async def current(slug: str, request: Request) -> ScreenState:
        state = await feed.state(slug, base_url(request, settings.base_url))
        if state is None:
            raise NotFound(f"no screen '{slug}'")
        return state

    @router.get("/screens/{slug}", summary="A screen's layout, tile data and crisis messages")
    async def state(slug: str, request: Request) -> JSONResponse:
        body = (await current(slug, request)).body
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @router.get(
        "/screens/{slug}/events",
        summary="Server-sent events: 'state' whenever what the screen shows changes",
    )
    async def events(slug: str, request: Request) -> StreamingResponse:
        first = await current(slug, request)
        queue = feed.subscribe(slug, base_url(request, settings.base_url), first)
        stream = _stream(feed, slug, queue, orjson.dumps(first.body))
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    @router.post("/screens/{slug}/heartbeat", summary="A screen reports that it is alive")
    async def heartbeat(slug: str, request: Request) -> JSONResponse:
        body: Any = await read_json(request, 4096)
        version = body.get("version") if isinstance(body, dict) else None
        if version is not None and not is_plain(version, 100):
            raise BadRequest("version must be a text of at most 100 characters")
        if not await feed.store.write(lambda c: layouts.heartbeat(c, slug, version)):
            raise NotFound(f"no screen '{slug}'")
        now = format_instant(datetime.now(UTC))
        return JSONResponse({"slug": slug, "last_seen": now, "version": version})

    return router


async def _stream(
    feed: ScreenFeed, slug: str, queue: asyncio.Queue[bytes], first: bytes
) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 2000\n\nevent: state\ndata: " + first + b"\n\n"
        deadline = time.monotonic() + STREAM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(queue.get(), min(PING_SECONDS, left))
            except TimeoutError:
                now = format_instant(datetime.now(UTC)).encode()
                yield b"event: ping\ndata: " + orjson.dumps(now.decode()) + b"\n\n"
                continue
            if data == GONE:
                yield b"event: gone\ndata: {}\n\n"
                return
            yield b"event: state\ndata: " + data + b"\n\n"
    finally:
        feed.unsubscribe(slug, queue)
