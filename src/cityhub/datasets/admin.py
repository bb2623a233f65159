"""The datasets part of the admin API: ``/api/admin/datasets/…`` and
``/api/admin/organizations/…``, over the same functions as ``cityhub dataset``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from cityhub import datasets
from cityhub.errors import BadRequest
from cityhub.store.database import Store
from cityhub.web import JSONResponse

TAG = "admin: datasets"


def datasets_router(store: Store) -> APIRouter:
    router = APIRouter(tags=[TAG])
    _datasets(router, store)
    _organizations(router, store)
    return router


def _datasets(router: APIRouter, store: Store) -> None:
    @router.get("/datasets", summary="Every dataset, restricted ones included")
    async def list_all() -> JSONResponse:
        return JSONResponse(await store.read(datasets.list_datasets))

    @router.post("/datasets", status_code=201, summary="Create a dataset")
    async def create(fields: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        def work(connection: Any) -> dict[str, Any]:
            return datasets.find_dataset(connection, datasets.create_dataset(connection, **fields))

        created = await store.write(work)
        location = f"/api/admin/datasets/{created['slug']}"
        return JSONResponse(created, status_code=201, headers={"Location": location})

    @router.get("/datasets/{ref}", summary="One dataset, by slug or id")
    async def show(ref: str) -> JSONResponse:
        return JSONResponse(await store.read(lambda c: datasets.find_dataset(c, ref)))

    @router.patch("/datasets/{ref}", summary="Change the fields given")
    async def change(ref: str, fields: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        return JSONResponse(await store.write(lambda c: datasets.update_dataset(c, ref, **fields)))

    @router.delete(
        "/datasets/{ref}",
        status_code=204,
        summary="Delete a dataset; one holding Things or collections only with with_content",
    )
    async def remove(ref: str, with_content: bool = False) -> Response:
        await store.write(lambda c: datasets.delete_dataset(c, ref, with_content=with_content))
        return Response(status_code=204)

    @router.post(
        "/datasets/{ref}/things",
        summary='Move Things into the dataset: {"things": [ids]}; ref "none": into no dataset',
    )
    async def move(ref: str, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        things = body.get("things")
        if not isinstance(things, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in things
        ):
            raise BadRequest('send {"things": [<Thing @iot.id>, …]}')
        target = None if ref == "none" else ref
        moved = await store.write(lambda c: datasets.move_things(c, things, target))
        return JSONResponse({"moved": moved})


def _organizations(router: APIRouter, store: Store) -> None:
    @router.get("/organizations", summary="Every organization")
    async def list_all() -> JSONResponse:
        return JSONResponse(await store.read(datasets.list_organizations))

    @router.post("/organizations", status_code=201, summary="Create an organization")
    async def create(fields: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        def work(connection: Any) -> dict[str, Any]:
            datasets.create_organization(connection, **fields)
            return datasets.find_organization(connection, fields.get("slug", ""))

        return JSONResponse(await store.write(work), status_code=201)

    @router.get("/organizations/{ref}", summary="One organization, by slug or id")
    async def show(ref: str) -> JSONResponse:
        return JSONResponse(await store.read(lambda c: datasets.find_organization(c, ref)))
