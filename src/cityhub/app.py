"""The application factory: the CLI, the tests and production build the hub through it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from cityhub import __version__, web
from cityhub.auth import Authenticator
from cityhub.errors import ApiError
from cityhub.sensorthings.api import VERSION, SensorThingsFace
from cityhub.sensorthings.openapi import openapi_fragment
from cityhub.settings import Settings
from cityhub.store.database import Store


def create_app(settings: Settings, *, migrate: bool = True) -> FastAPI:
    """Build the hub for ``settings``. Nothing connects until the app starts."""
    store = Store(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            store.migrate()
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="cityhub",
        version=__version__,
        summary="Open Smart City Hub: urban data through open standards.",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.store = store
    app.state.settings = settings
    auth = Authenticator(store, settings)
    app.state.auth = auth
    app.add_exception_handler(ApiError, web.api_error_handler)
    app.add_exception_handler(HTTPException, web.http_error_handler)
    app.add_exception_handler(RequestValidationError, web.validation_error_handler)
    app.add_exception_handler(Exception, web.unexpected_error_handler)
    # First in line: the SensorThings routes are the hot paths.
    app.router.routes[0:0] = SensorThingsFace(store, settings, auth).routes()

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        return HTMLResponse(_home_page(str(request.base_url).rstrip("/")))

    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the SensorThings face, which is described by its model."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        paths, schemas = openapi_fragment(VERSION)
        document["paths"].update(paths)
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).update(schemas)
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        app.openapi_schema = document
    return app.openapi_schema


def _home_page(base: str) -> str:
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>cityhub</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>cityhub – Open Smart City Hub</h1>
<p>Urbane Daten der Stadt, offen über Standards. / The city's data through open standards.</p>
<ul>
<li><a href="{base}/{VERSION}">OGC SensorThings API 1.1</a></li>
<li><a href="{base}/api/docs">API-Dokumentation / API documentation</a></li>
</ul>
</main></body></html>"""
