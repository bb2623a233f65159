"""The application factory: the CLI, the tests and production build the hub through it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from cityhub import __version__, web
from cityhub.admin import admin_router, tokens_router
from cityhub.adminui import admin_routes
from cityhub.auth import Authenticator
from cityhub.catalog import openapi as catalog_openapi
from cityhub.catalog.ckan_api import CkanFace
from cityhub.catalog.http import CatalogFace
from cityhub.connectors.admin import connectors_router
from cityhub.connectors.service import ConnectorService
from cityhub.datasets.admin import datasets_router
from cityhub.downloads import openapi as downloads_openapi
from cityhub.downloads.face import DownloadsFace
from cityhub.errors import ApiError
from cityhub.features import openapi as features_openapi
from cityhub.features.api import PREFIX, FeaturesFace
from cityhub.features.imports.admin import imports_router
from cityhub.gtfs.api import DeparturesFace
from cityhub.gtfs.api import openapi_paths as departures_openapi
from cityhub.lorawan.admin import lorawan_router
from cityhub.lorawan.service import LorawanService
from cityhub.lorawan.webhook import webhook_routes
from cityhub.mqtt.service import MqttService
from cityhub.portal import portal_routes, unknown_path_handler
from cityhub.screens import public as screens_public
from cityhub.screens.admin import screens_admin_router
from cityhub.screens.live import ScreenFeed
from cityhub.sensorthings.api import VERSION, SensorThingsFace
from cityhub.sensorthings.openapi import openapi_fragment
from cityhub.settings import Settings
from cityhub.store.database import Store

_ERROR_HANDLERS: dict[Any, Any] = {
    ApiError: web.api_error_handler,
    HTTPException: web.http_error_handler,
    RequestValidationError: web.validation_error_handler,
    DBAPIError: web.database_error_handler,
    Exception: web.unexpected_error_handler,
}


def create_app(settings: Settings, *, migrate: bool = True) -> Starlette:
    """Build the hub for ``settings``. Nothing connects until the app starts.

    The hub is a plain Starlette app routing to its faces: the SensorThings face directly
    (its routes are the hot paths), the API documentation (and later the admin API) through
    FastAPI mounted at ``/api``.
    """
    store = Store(settings)
    auth = Authenticator(store, settings)
    mqtt = MqttService(store, settings, auth) if settings.mqtt_enabled else None
    connectors = ConnectorService(store, settings)
    lorawan = LorawanService(store, settings)
    screens = ScreenFeed(store, settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        scheduler = None
        if migrate:
            store.migrate()
        try:
            if mqtt is not None:
                await anyio.to_thread.run_sync(mqtt.start)
            await anyio.to_thread.run_sync(lorawan.start)
            _freeze_startup_objects()
            scheduler = _start_connectors(settings, connectors)
            yield
        finally:
            if scheduler is not None:
                scheduler.cancel()
                await asyncio.gather(scheduler, return_exceptions=True)
            await connectors.aclose()
            await screens.aclose()
            await anyio.to_thread.run_sync(lorawan.stop)
            if mqtt is not None:
                await anyio.to_thread.run_sync(mqtt.stop)
            store.close()

    app = Starlette(
        routes=[
            # The admin pages: HTML shells whose scripts call the admin API at /api/admin.
            *admin_routes(),
            *SensorThingsFace(store, settings, auth).routes(),
            *FeaturesFace(store, settings, auth).routes(),
            *DeparturesFace(store, auth).routes(),
            *DownloadsFace(store, auth, settings.max_concurrent_downloads).routes(),
            *webhook_routes(lorawan.core, settings.max_body_bytes),
            *screens_public.ScreensFace(screens).routes(),
            # The citizen portal at / (its /api/search comes before the /api mount).
            *portal_routes(store, settings, auth),
            # The open-data catalog: DCAT-AP.de at /catalog, the CKAN API before the /api mount.
            *CatalogFace(store, settings, auth).routes(),
            *CkanFace(store, settings, auth).routes(),
            Mount("/api", app=_api(store, auth, mqtt, connectors, lorawan, screens)),
            # Scripts, styles and the front-end libraries of the pages, shipped in the package.
            Mount("/static", app=StaticFiles(packages=[("cityhub", "static")]), name="static"),
        ],
        middleware=_middleware(settings),
        exception_handlers={
            **_ERROR_HANDLERS,
            404: unknown_path_handler(store, settings, auth),
        },
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.auth = auth
    app.state.mqtt = mqtt
    app.state.connectors = connectors
    app.state.lorawan = lorawan
    app.state.screens = screens
    return app


def _freeze_startup_objects() -> None:
    """Keep what startup built out of the garbage collector's full passes.

    The modules, routes, schema and caches built at startup live as long as the process; a
    full collection walking them all took ~90 ms every few large responses, a pause that
    was most of the time of a "latest value of every Datastream" page.
    """
    gc.collect()
    gc.freeze()


def _start_connectors(settings: Settings, connectors: ConnectorService) -> asyncio.Task[Any] | None:
    """Schedule the connectors in this process unless workers run them (those created through
    the admin API later included: each tick reads the effective configuration)."""
    if not settings.connectors_in_serve:
        return None
    return asyncio.create_task(connectors.serve_forever())


def _middleware(settings: Settings) -> list[Middleware]:
    if not settings.cors_origins:
        return []
    cors = Middleware(
        web.CrossOrigin,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Location"],
        max_age=3600,
    )
    return [cors]


def _api(
    store: Store,
    auth: Authenticator,
    mqtt: MqttService | None,
    connectors: ConnectorService,
    lorawan: LorawanService,
    screens: ScreenFeed | None = None,
) -> FastAPI:
    """The ``/api`` face: health, the admin API, interactive documentation of every face."""
    api = FastAPI(
        title="cityhub",
        version=__version__,
        summary="Open Smart City Hub: urban data through open standards.",
        docs_url=None,
        openapi_url="/openapi.json",
        redoc_url=None,
        root_path_in_servers=False,
        exception_handlers=_ERROR_HANDLERS,
    )
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]

    @api.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        # Swagger UI from the package, so the documentation works inside a data centre without
        # internet access; addresses below the mount's root path keep a proxy's path prefix.
        api_root = request.scope.get("root_path", "").rstrip("/")
        vendor = api_root.removesuffix("/api") + "/static/vendor/swagger-ui"
        return get_swagger_ui_html(
            openapi_url=f"{api_root}/openapi.json",
            title="cityhub – API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )

    @api.get("/health", tags=["operations"], summary="Liveness and database reachability")
    async def health() -> web.JSONResponse:
        try:
            await store.read(lambda connection: connection.exec_driver_sql("SELECT 1").scalar())
        except Exception:  # any failure of the database means: not healthy
            body = {"status": "unavailable", "database": "unreachable", "version": __version__}
            return web.JSONResponse(body, status_code=503)
        return web.JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    @api.get("/mqtt", tags=["operations"], summary="MQTT broker connection and message counters")
    async def mqtt_status() -> web.JSONResponse:
        if mqtt is None:
            return web.JSONResponse({"enabled": False})
        return web.JSONResponse(mqtt.status())

    api.include_router(
        admin_router(
            auth,
            tokens_router(store, auth),
            datasets_router(store),
            imports_router(store, store.settings),
            connectors_router(connectors),
            lorawan_router(store, lorawan),
            *([screens_admin_router(screens, auth)] if screens is not None else []),
        )
    )
    if screens is not None:
        api.include_router(screens_public.api_router(screens))
    return api


def _openapi(api: FastAPI) -> dict[str, Any]:
    """FastAPI's own document plus the SensorThings face, which is described by its model."""
    if api.openapi_schema is None:
        document = get_openapi(
            title=api.title, version=api.version, summary=api.summary, routes=api.routes
        )
        document["paths"] = {f"/api{path}": item for path, item in document["paths"].items()}
        paths, schemas = openapi_fragment(VERSION)
        document["paths"].update(paths)
        document["paths"].update(features_openapi.paths(PREFIX))
        document["paths"].update(departures_openapi())
        document["paths"].update(downloads_openapi.paths())
        document["paths"].update(catalog_openapi.paths())
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).update(schemas)
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        api.openapi_schema = document
    return api.openapi_schema
