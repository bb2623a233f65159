"""The admin API of screens and crisis messages (``/api/admin/screens``, ``/api/admin/crisis``).

Any client with an admin token may push a crisis message: that is the "authorised API
client" of an alerting system (see docs/screens.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from cityhub.auth import Authenticator, Principal
from cityhub.errors import NotFound
from cityhub.screens import crisis, layouts
from cityhub.screens.live import ScreenFeed
from cityhub.screens.tiles import check_references, tile_types
from cityhub.web import JSONResponse, RowId, read_json


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SCREEN_BODY = _json_body(
    {
        "title": {"type": "string"},
        "group": {"type": ["string", "null"]},
        "orientation": {"type": "string", "enum": ["landscape", "portrait"]},
        "tiles": {
            "type": "array",
            "items": {"type": "object", "properties": {"type": {"type": "string"}}},
            "description": "Tiles {type, options…}; see GET /api/admin/screens/tile-types.",
        },
    },
    ["title", "tiles"],
)
CRISIS_BODY = _json_body(
    {
        "text": {"type": "string", "maxLength": crisis.MAX_TEXT},
        "severity": {"type": "string", "enum": list(crisis.SEVERITIES)},
        "group": {"type": ["string", "null"]},
        "expires": {"type": ["string", "null"], "format": "date-time"},
    },
    ["text", "severity"],
)


def screens_admin_router(feed: ScreenFeed, auth: Authenticator) -> APIRouter:
    """Screens (layouts, heartbeats, silent ones) and crisis messages."""
    store, settings = feed.store, feed.settings
    silent_after = 3 * settings.screen_heartbeat_seconds
    router = APIRouter(tags=["admin: screens"])

    async def who(request: Request) -> Principal:
        return await auth.admin(request)

    @router.get("/screens", summary="Every screen, with last heartbeat and whether it is silent")
    async def list_all() -> JSONResponse:
        return JSONResponse(await store.read(lambda c: layouts.list_screens(c, silent_after)))

    @router.get("/screens/tile-types", summary="Each tile type with its options (for a form)")
    async def types() -> JSONResponse:
        return JSONResponse(tile_types())

    @router.get("/screens/{slug}", summary="One screen")
    async def get_one(slug: str) -> JSONResponse:
        screen = await store.read(lambda c: layouts.one(c, slug, silent_after))
        if screen is None:
            raise NotFound(f"no screen '{slug}'")
        return JSONResponse(screen)

    @router.put(
        "/screens/{slug}",
        summary="Create (201) or replace (200) a screen: {title, group, orientation, tiles}",
        openapi_extra={"requestBody": SCREEN_BODY},
    )
    async def put(slug: str, request: Request) -> JSONResponse:
        layouts.check_slug(slug)
        screen = layouts.check_body(await read_json(request, settings.max_body_bytes))

        def work(connection: Any) -> tuple[bool, dict[str, Any] | None]:
            check_references(connection, screen["tiles"])
            created = layouts.save(connection, slug, screen)
            return created, layouts.one(connection, slug, silent_after)

        created, saved = await store.write(work)
        feed.wake()
        return JSONResponse(saved, status_code=201 if created else 200)

    @router.delete("/screens/{slug}", status_code=204, summary="Delete a screen")
    async def delete(slug: str) -> Response:
        if not await store.write(lambda c: layouts.remove(c, slug)):
            raise NotFound(f"no screen '{slug}'")
        feed.wake()
        return Response(status_code=204)

    @router.get("/crisis", summary="Crisis messages: active ones first, then past ones")
    async def messages() -> JSONResponse:
        now = datetime.now(UTC)
        return JSONResponse(await store.read(lambda c: crisis.list_messages(c, now)))

    @router.post(
        "/crisis",
        status_code=201,
        summary="Push a crisis message: {text, severity: info|warning|critical, group?, expires?}",
        openapi_extra={"requestBody": CRISIS_BODY},
    )
    async def push(request: Request, principal: Principal = Depends(who)) -> JSONResponse:  # noqa: B008
        now = datetime.now(UTC)
        message = crisis.check_body(await read_json(request, settings.max_body_bytes), now)

        def work(connection: Any) -> dict[str, Any]:
            message_id = crisis.add(connection, message, principal.name, now)
            return crisis.one(connection, message_id, now) or {}

        created = await store.write(work)
        feed.wake()
        return JSONResponse(created, status_code=201)

    @router.delete("/crisis/{message_id}", status_code=204, summary="Withdraw a crisis message")
    async def withdraw(message_id: RowId) -> Response:
        now = datetime.now(UTC)
        if not await store.write(lambda c: crisis.withdraw(c, message_id, now)):
            raise NotFound(f"no crisis message {message_id} that is not withdrawn already")
        feed.wake()
        return Response(status_code=204)

    return router
