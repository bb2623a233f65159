"""The connectors part of the admin API: ``/api/admin/connectors/…``.

Lists the configured connectors with their state, shows the last runs with their errors and
runs one now — the same service ``cityhub connector`` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Query

from cityhub.connectors.base import ConnectorError
from cityhub.connectors.service import ConnectorBusy, ConnectorService
from cityhub.errors import BadRequest, Conflict, NotFound
from cityhub.web import JSONResponse

TAG = "admin: connectors"


def connectors_router(service: ConnectorService) -> APIRouter:
    router = APIRouter(tags=[TAG])
    background: set[asyncio.Task[Any]] = set()

    def known(name: str) -> None:
        if name not in service.configs:
            configured = ", ".join(sorted(service.configs)) or "none"
            raise NotFound(f"no connector '{name}' (configured: {configured})")

    @router.get("/connectors", summary="Every configured connector: schedule, state, last run")
    async def list_all() -> JSONResponse:
        return JSONResponse(list((await service.status()).values()))

    @router.get("/connectors/{name}", summary="One connector's state and its last runs")
    async def show(name: str) -> JSONResponse:
        known(name)
        state = (await service.status())[name]
        return JSONResponse({**state, "runs": await service.runs(name, 20)})

    @router.get("/connectors/{name}/runs", summary="A connector's last runs, errors included")
    async def runs(name: str, limit: int = Query(20, ge=1, le=500)) -> JSONResponse:
        known(name)
        return JSONResponse(await service.runs(name, limit))

    @router.post(
        "/connectors/{name}/run",
        summary="Run a connector now; wait=false answers 202 at once and runs it in the back",
    )
    async def run_now(name: str, wait: bool = True) -> JSONResponse:
        known(name)
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

    return router


async def _quietly(service: ConnectorService, name: str) -> None:
    """A run in the back: its outcome is recorded in the runs; a busy connector is no error."""
    with contextlib.suppress(ConnectorBusy):
        await service.run_now(name)
