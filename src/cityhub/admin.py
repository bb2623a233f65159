"""The admin API at ``/api/admin``: every route needs a token of role admin.

Each part of the hub contributes its own router (datasets, tokens, and later integrations,
connectors, screens); this module only puts them behind the admin check.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends
from starlette.requests import Request
from starlette.responses import Response

from cityhub.auth import Authenticator, Principal, create_token, list_tokens, revoke_token
from cityhub.errors import BadRequest, NotFound
from cityhub.store.database import Store
from cityhub.web import JSONResponse, RowId


def admin_router(auth: Authenticator, *parts: APIRouter) -> APIRouter:
    """``parts`` mounted under ``/admin``, each route requiring an admin token."""

    async def require_admin(request: Request) -> Principal:
        return await auth.admin(request)

    router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
    for part in parts:
        router.include_router(part)
    return router


def tokens_router(store: Store, auth: Authenticator) -> APIRouter:
    """Tokens: listed without their values; a new token is shown once, in the response."""
    router = APIRouter(tags=["admin: tokens"])

    @router.get("/tokens", summary="Every token (never its value)")
    async def list_all() -> JSONResponse:
        return JSONResponse(await store.read(list_tokens))

    @router.post(
        "/tokens",
        status_code=201,
        summary='Create a token: {"role": "admin|publisher|reader", "name": …, "dataset": …}',
    )
    async def create(body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        from cityhub.datasets import dataset_id_of

        role, name, dataset = body.get("role"), body.get("name"), body.get("dataset")
        if not isinstance(role, str) or not isinstance(name, str) or not name:
            raise BadRequest('send {"role": "admin" | "publisher" | "reader", "name": "<text>"}')

        def work(connection: Any) -> dict[str, Any]:
            bound = None if dataset is None else dataset_id_of(connection, dataset)
            try:
                value = create_token(connection, role, name, bound)
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
            return {"token": value, "role": role, "name": name, "dataset_id": bound}

        return JSONResponse(await store.write(work), status_code=201)

    @router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
    async def revoke(token_id: RowId) -> Response:
        if not await store.write(lambda c: revoke_token(c, token_id)):
            raise NotFound(f"no active token with id {token_id}")
        auth.forget()
        return Response(status_code=204)

    return router
