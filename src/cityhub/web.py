"""HTTP helpers shared by every face: JSON responses, request bodies, error rendering."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import Path
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cityhub.digits import is_digits
from cityhub.errors import (
    ApiError,
    BadRequest,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

log = logging.getLogger("cityhub")

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


class JSONResponse(Response):
    """JSON serialised with orjson: 50 times cheaper than the default encoder."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_JSON_OPTIONS)


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers())


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request body as JSON, or a 4xx that says what is wrong with it."""
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type:
        raise UnsupportedMediaType(
            f"send JSON (Content-Type: application/json), not {content_type}"
        )
    body = await read_body(request, max_bytes)
    if not body.strip():
        raise BadRequest("the request body is empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, or 413 as soon as it is known to exceed ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and is_digits(declared) and int(declared) > max_bytes:
        raise PayloadTooLarge(f"the request body is larger than {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"the request body is larger than {max_bytes} bytes")
    return bytes(body)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error = ApiError(str(exc.detail))
    error.status = exc.status_code
    return error_response(error)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error_response(BadRequest(problems or "invalid request"))


def database_error(exc: DBAPIError) -> ApiError | None:
    """What a client is told of a database error; None when it is the hub's own fault.

    An unreachable database is 503 (try again). A value the database could not compute from
    the request — an overflow in ``$filter`` arithmetic, say — is the request's fault: 400.
    """
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        log.warning("database unavailable: %s", exc)
        return ServiceUnavailable("the database is not available; try again")
    if isinstance(exc, DataError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
        return BadRequest(f"the database cannot compute a value of this request: {reason}")
    return None


async def database_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    error = database_error(exc)
    if error is None:
        return await unexpected_error_handler(request, exc)
    return error_response(error)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    error = ApiError("internal server error; the details are in the server log")
    return error_response(error)


class CrossOrigin:
    """Starlette's CORS middleware, skipped for requests that carry no ``Origin`` while every
    origin is allowed: the answer would not differ, and the hot paths save its wrapping."""

    def __init__(self, app: ASGIApp, allow_origins: list[str], **options: Any) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=allow_origins, **options)
        self.everyone = "*" in allow_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        asked = scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"])
        if self.everyone and not asked:
            await self.app(scope, receive, send)
            return
        await self.cors(scope, receive, send)


#: A row's id in a path (a token, a crisis message, a dead letter): within the id columns'
#: range (32 bits on PostgreSQL), so a longer number is a 400 naming the parameter rather
#: than an overflow in SQLite's driver (a 500).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The row's id")]
