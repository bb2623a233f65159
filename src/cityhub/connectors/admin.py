"""The connectors part of the admin API: ``/api/admin/connectors/…``.

Lists the configured connectors with their state, shows the last runs with their errors and
runs one now — the same service ``cityhub connector`` uses. Connectors can be created,
replaced and deleted here too (kept in the database); those of ``cityhub.toml`` are read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from cityhub.connectors import ledger, managed
from cityhub.connectors.base import ConnectorError
from cityhub.connectors.service import ConnectorBusy, ConnectorService
from cityhub.errors import BadRequest, Conflict, NotFound
from cityhub.store import schema
from cityhub.store.managed import create_entry, refuse_file_entry, remove_entry, replace_entry
from cityhub.web import JSONResponse

TAG = "admin: connectors"
WHAT = "connector"


def connectors_router(service: ConnectorService) -> APIRouter:
    router = APIRouter(tags=[TAG])
    background: set[asyncio.Task[Any]] = set()

    async def known(name: str) -> None:
        await service.refresh()
        if name not in service.configs:
            configured = ", ".join(sorted(service.configs)) or "none"
            raise NotFound(f"no connector '{name}' (configured: {configured})")

    @router.get("/connectors", summary="Every configured connector: schedule, state, last run")
    async def list_all() -> JSONResponse:
        return JSONResponse(list((await service.status()).values()))

    @router.get("/connectors/{name}", summary="One connector's state and its last runs")
    async def show(name: str) -> JSONResponse:
        await known(name)
        state = (await service.status())[name]
        configured = service.configured[name]
        if configured.source == "api":  # what a PUT starts from (holds no secrets)
            state["configuration"] = managed.describe(name, configured)
        return JSONResponse({**state, "runs": await service.runs(name, 20)})

    @router.get("/connectors/{name}/runs", summary="A connector's last runs, errors included")
    async def runs(name: str, limit: int = Query(20, ge=1, le=500)) -> JSONResponse:
        await known(name)
        return JSONResponse(await service.runs(name, limit))

    @router.post(
        "/connectors/{name}/run",
        summary="Run a connector now; wait=false answers 202 at once and runs it in the back",
    )
    async def run_now(name: str, wait: bool = True) -> JSONResponse:
        await known(name)
        try:
            service.connector(name)
        except ConnectorError as exc:
            raise BadRequest(str(exc)) from None
        if not wait:
            task = asyncio.create_task(_quietly(service, name))
            background.add(task)
            task.add_done_callback(background.discard)
            return JSONResponse({"name": name, "status": "started"}, status_code=202)
        try:
            outcome = await service.run_now(name)
        except ConnectorBusy as exc:
            raise Conflict(str(exc)) from None
        return JSONResponse(outcome.as_dict())

    _configuration(router, service)
    return router


def _configuration(router: APIRouter, service: ConnectorService) -> None:
    """Create, replace and delete connectors; the file's entries answer 409."""
    table = schema.connector_configs

    def writable(name: str) -> None:
        if name in service.settings.connectors:
            refuse_file_entry(name, WHAT)

    async def shown(name: str, status: int) -> JSONResponse:
        await service.refresh()
        entry = managed.describe(name, service.configured[name])
        location = f"/api/admin/connectors/{name}"
        return JSONResponse(entry, status_code=status, headers={"Location": location})

    @router.post(
        "/connectors/{name}", status_code=201, summary="Create a connector (kept in the database)"
    )
    async def create(name: str, body: Any = Body(None)) -> JSONResponse:  # noqa: B008
        writable(name)
        document = managed.checked_document(name, body)

        def work(connection: Any) -> None:
            create_entry(connection, table, name, document, WHAT)
            ledger.reschedule(connection, name, datetime.now(UTC))

        await service.store.write(work)
        return await shown(name, 201)

    @router.put("/connectors/{name}", summary="Replace a connector created through the API")
    async def change(name: str, body: Any = Body(None)) -> JSONResponse:  # noqa: B008
        writable(name)
        document = managed.checked_document(name, body)

        def work(connection: Any) -> None:
            replace_entry(connection, table, name, document, WHAT)
            ledger.reschedule(connection, name, datetime.now(UTC))

        await service.store.write(work)
        return await shown(name, 200)

    @router.delete(
        "/connectors/{name}", status_code=204, summary="Delete a connector created through the API"
    )
    async def delete(name: str) -> Response:
        writable(name)
        await service.store.write(lambda c: remove_entry(c, table, name, WHAT))
        await service.refresh()
        return Response(status_code=204)


async def _quietly(service: ConnectorService, name: str) -> None:
    """A run in the back: its outcome is recorded in the runs; a busy connector is no error."""
    with contextlib.suppress(ConnectorBusy):
        await service.run_now(name)
