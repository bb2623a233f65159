"""The LoRaWAN part of the admin API, ``/api/admin/lorawan/…``: integrations, the device
registry and dead letters, over the same functions as ``cityhub device`` and
``cityhub deadletter``."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Body
from starlette.responses import Response

from cityhub.errors import BadRequest, NotFound
from cityhub.lorawan import deadletters, managed, registry
from cityhub.lorawan.service import LorawanService
from cityhub.store import schema
from cityhub.store.database import Store
from cityhub.store.managed import create_entry, refuse_file_entry, remove_entry, replace_entry
from cityhub.web import JSONResponse, RowId

TAG = "admin: LoRaWAN"


def lorawan_router(store: Store, service: LorawanService) -> APIRouter:
    router = APIRouter(prefix="/lorawan", tags=[TAG])

    @router.get("/integrations", summary="The configured integrations and their subscribers")
    async def integrations() -> JSONResponse:
        await anyio.to_thread.run_sync(service.reload)
        return JSONResponse(service.integrations())

    _integrations(router, store, service)
    _devices(router, store, service)
    _dead_letters(router, store, service)
    return router


def _integrations(router: APIRouter, store: Store, service: LorawanService) -> None:
    """Create, replace and delete integrations; the file's entries answer 409. Each change
    starts, restarts or stops the integration's subscriber at once."""
    table = schema.lorawan_integrations
    what = managed.WHAT

    def writable(name: str) -> None:
        if any(i.name == name for i in service.settings.lorawan):
            refuse_file_entry(name, what)

    def shown(name: str, status: int) -> JSONResponse:
        for entry in service.integrations():
            if entry["name"] == name:
                location = f"/api/admin/lorawan/integrations/{name}"
                return JSONResponse(entry, status_code=status, headers={"Location": location})
        known = ", ".join(entry["name"] for entry in service.integrations()) or "none"
        raise NotFound(f"no {what} '{name}' (configured: {known})")

    @router.get("/integrations/{name}", summary="One integration and its subscriber")
    async def show(name: str) -> JSONResponse:
        await anyio.to_thread.run_sync(service.reload)
        return shown(name, 200)

    @router.post(
        "/integrations/{name}", status_code=201, summary="Create an integration (in the database)"
    )
    async def create(name: str, body: Any = Body(None)) -> JSONResponse:  # noqa: B008
        writable(name)
        document = managed.checked_document(name, body)
        await store.write(lambda c: create_entry(c, table, name, document, what))
        await anyio.to_thread.run_sync(service.reload)
        return shown(name, 201)

    @router.put("/integrations/{name}", summary="Replace an integration created through the API")
    async def change(name: str, body: Any = Body(None)) -> JSONResponse:  # noqa: B008
        writable(name)
        document = managed.checked_document(name, body)
        await store.write(lambda c: replace_entry(c, table, name, document, what))
        await anyio.to_thread.run_sync(service.reload)
        return shown(name, 200)

    @router.delete(
        "/integrations/{name}",
        status_code=204,
        summary="Delete an integration created through the API (its devices stay registered)",
    )
    async def delete(name: str) -> Response:
        writable(name)
        await store.write(lambda c: remove_entry(c, table, name, what))
        await anyio.to_thread.run_sync(service.reload)
        return Response(status_code=204)


def _devices(router: APIRouter, store: Store, service: LorawanService) -> None:
    @router.get("/devices", summary="Every registered device")
    async def list_all() -> JSONResponse:
        return JSONResponse(await store.read(registry.list_devices))

    @router.post("/devices", status_code=201, summary="Register a device (and its Thing)")
    async def create(body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        arguments = registry.device_from_json(body)
        integration = arguments.get("integration")
        if integration is not None and integration not in service.core.integrations:
            await anyio.to_thread.run_sync(service.reload)  # made through another process?
        if integration is not None and integration not in service.core.integrations:
            raise BadRequest(f"integration: no [[lorawan]] entry is named {integration!r}")

        def work(connection: Any) -> dict[str, Any]:
            registry.create_device(connection, **arguments)
            return registry.find_device(connection, arguments.get("dev_eui"))

        created = await store.write(work)
        service.core.forget()
        location = f"/api/admin/lorawan/devices/{created['dev_eui']}"
        return JSONResponse(created, status_code=201, headers={"Location": location})

    @router.get("/devices/{dev_eui}", summary="One device, by DevEUI")
    async def show(dev_eui: str) -> JSONResponse:
        return JSONResponse(await store.read(lambda c: registry.find_device(c, dev_eui)))

    @router.patch("/devices/{dev_eui}", summary="Change name, decoder, integration or mapping")
    async def change(dev_eui: str, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        changed = await store.write(lambda c: registry.update_device(c, dev_eui, **body))
        service.core.forget()
        return JSONResponse(changed)

    @router.delete(
        "/devices/{dev_eui}", status_code=204, summary="Unregister; with_thing deletes its Thing"
    )
    async def remove(dev_eui: str, with_thing: bool = False) -> Response:
        await store.write(lambda c: registry.delete_device(c, dev_eui, with_thing=with_thing))
        service.core.forget()
        return Response(status_code=204)


def _dead_letters(router: APIRouter, store: Store, service: LorawanService) -> None:
    @router.get("/dead-letters", summary="Dead letters, newest first (without payloads)")
    async def list_all(integration: str | None = None, limit: int = 100) -> JSONResponse:
        letters = await store.read(lambda c: deadletters.list_letters(c, integration, limit))
        return JSONResponse(letters)

    @router.get("/dead-letters/{letter_id}", summary="One dead letter with its payload")
    async def show(letter_id: RowId) -> JSONResponse:
        return JSONResponse(await store.read(lambda c: deadletters.find_letter(c, letter_id)))

    @router.post("/dead-letters/{letter_id}/retry", summary="Process a dead letter again")
    async def retry(letter_id: RowId) -> JSONResponse:
        (outcome,) = await store.write(service.core.retry([letter_id]))
        return JSONResponse(outcome.as_json())

    @router.post("/dead-letters/retry", summary="Process every dead letter (of one integration)")
    async def retry_all(integration: str | None = None) -> JSONResponse:
        ids = await store.read(lambda c: deadletters.letter_ids(c, integration))
        outcomes = await store.write(service.core.retry(ids)) if ids else []
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return JSONResponse({"retried": len(ids), **counts})

    @router.delete("/dead-letters/{letter_id}", status_code=204, summary="Drop a dead letter")
    async def drop(letter_id: RowId) -> Response:
        await store.write(lambda c: deadletters.drop(c, letter_id))
        return Response(status_code=204)
