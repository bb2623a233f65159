"""The portal's pages: the map, datasets, collections, features, Things, Datastreams, search.

Every page is real HTML with its content (the map and the chart enhance it); every page has
a canonical URL for links and QR codes. An unknown slug or id is a 404 page, a bad parameter
a 400 page, both in the page language.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cityhub import datasets as catalog
from cityhub.auth import Authenticator
from cityhub.catalog.http import base_of
from cityhub.datasets.collections import list_collections
from cityhub.datasets.coverage import Coverages
from cityhub.digits import is_digits
from cityhub.errors import ApiError, BadRequest, NotFound
from cityhub.features import reads as feature_reads
from cityhub.features.sources import SENSORS, find_collection, source, visible_collections
from cityhub.pages import Translator, client_messages, language_of, render
from cityhub.portal import nearby, reads, record, schemaorg, search, series
from cityhub.portal.formats import Formats
from cityhub.portal.mapview import MapView, badges, centre_of
from cityhub.portal.today import todays_figures
from cityhub.portal.transit import departures_of
from cityhub.settings import Settings
from cityhub.store.access import Hidden, hidden_datasets
from cityhub.store.database import Store
from cityhub.web import JSONResponse, http_error_handler

Handler = Callable[[Any, Request], Awaitable[Response]]
#: Features listed on a collection's page; the rest are a link to the API away.
COLLECTION_PAGE = 500
_SLUG = re.compile(r"[A-Za-z0-9_.-]{1,200}")
#: ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` refuses.


def _page(handler: Handler) -> Handler:
    """Errors of a page (unknown id, bad parameter) as an HTML page in the page language."""

    @wraps(handler)
    async def run(self: Portal, request: Request) -> Response:
        try:
            return await handler(self, request)
        except ApiError as error:
            if error.status not in (400, 401, 404):
                raise
            return self.page(request, "portal/error.html", error.status, error=error)

    return run


def _slug(request: Request) -> str:
    """A path slug: letters, digits, hyphens and underscores, or the page does not exist."""
    slug = request.path_params["slug"]
    if not _SLUG.fullmatch(slug):
        raise NotFound(f"no such name '{slug[:100]}'")
    return slug


def _number(text: str) -> int:
    """A path id: a whole number, or the page does not exist."""
    if not is_digits(text) or len(text) > 18:
        raise NotFound(f"no such id '{text}'")
    return int(text)


class Portal:
    """The citizen portal: server-rendered pages over the store, with the access rule."""

    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth
        self.zone = ZoneInfo(settings.time_zone)
        self.coverages = Coverages()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.home, methods=["GET"]),
            Route("/datasets", self.datasets, methods=["GET"]),
            Route("/datasets/{slug}", self.dataset, methods=["GET"]),
            Route("/collections/{slug}", self.collection, methods=["GET"]),
            Route("/collections/{slug}/{fid}", self.feature, methods=["GET"]),
            Route("/collections/{slug}/{fid}/card", self.feature_card, methods=["GET"]),
            Route("/things/{id}", self.thing, methods=["GET"]),
            Route("/things/{id}/card", self.thing_card, methods=["GET"]),
            Route("/datastreams/{id}", self.datastream, methods=["GET"]),
            Route("/nearby", self.nearby, methods=["GET"]),
            Route("/search", self.search_page, methods=["GET"]),
            Route("/api/search", self.search_json, methods=["GET"]),
        ]

    # --- helpers -----------------------------------------------------------------------

    def base(self, request: Request) -> str:
        """The hub's public URL (setting ``base_url``, else as this request reached it)."""
        return base_of(self.settings, request)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        t = Translator(language_of(request))
        base = self.base(request)
        canonical = base + request.url.path
        if context.get("canonical_query"):
            canonical += "?" + context.pop("canonical_query")
        return render(
            request,
            template,
            status,
            f=Formats(t, self.zone),
            city=self.settings.city_name,
            canonical=canonical,
            base=base,
            **context,
        )

    async def unknown_path(self, request: Request, exc: Exception) -> Response:
        """A path nothing serves: for a browser the 404 page in its language (a mistyped or
        outdated link from a QR code), for every other client the JSON error."""
        accepts = request.headers.get("accept", "")
        if request.method in ("GET", "HEAD") and "text/html" in accepts:
            error = NotFound(f"nothing is at {request.url.path[:200]}")
            return self.page(request, "portal/error.html", 404, error=error)
        return await http_error_handler(request, exc)

    async def _read(self, request: Request, work: Callable[[Connection, Hidden], Any]) -> Any:
        reader = (await self.auth.principal(request)).reader
        return await self.store.read(lambda c: work(c, hidden_datasets(c, reader)))

    # --- the map -----------------------------------------------------------------------

    @_page
    async def home(self, request: Request) -> Response:
        view = MapView.parse(request.query_params)
        screen, now = self.settings.portal_screen, datetime.now(UTC)

        def work(connection: Connection, hidden: Hidden) -> tuple[list[Any], list[dict]]:
            today = todays_figures(connection, screen, self.base(request), self.zone, now)
            return visible_collections(connection, hidden), today

        collections, today = await self._read(request, work)
        base = self.settings.map_base_collection
        layers = [c for c in collections if c.slug != base]
        labels = badges([c.title for c in layers])
        known = {c.slug for c in layers}
        chosen = view.layers if view.layers is not None else sorted(known)
        config = {
            "tiles": self.settings.map_tiles,
            "attribution": self.settings.map_attribution,
            "base": base if base in {c.slug for c in collections} else "",
            "center": list(view.centre or self.settings.map_center),
            "zoom": view.zoom or self.settings.map_zoom,
            "layers": [
                {"slug": c.slug, "title": c.title, "badge": b, "index": i}
                for i, (c, b) in enumerate(zip(layers, labels, strict=True))
            ],
            "selected": [slug for slug in chosen if slug in known],
            "feature": view.feature,
            "messages": client_messages(language_of(request), "portal.map."),
        }
        return self.page(
            request, "portal/map.html", config=config, layers=config["layers"], today=today
        )

    # --- datasets and collections ------------------------------------------------------

    @_page
    async def datasets(self, request: Request) -> Response:
        found = await self._read(request, lambda c, hidden: catalog.list_datasets(c, hidden))
        catalog_links = record.catalog_links(self.base(request))
        return self.page(request, "portal/datasets.html", datasets=found, catalog=catalog_links)

    @_page
    async def dataset(self, request: Request) -> Response:
        slug = _slug(request)
        now = datetime.now(UTC)

        def work(connection: Connection, hidden: Hidden) -> dict[str, Any]:
            found = catalog.find_dataset(connection, slug, hidden)
            publisher = None
            if found["organization"]:
                publisher = catalog.find_organization(connection, found["organization"])
            return {
                "dataset": found,
                "publisher": publisher,
                "collections": list_collections(connection, found["id"]),
                "datastreams": reads.dataset_datastreams(connection, found["id"], now),
                "multi_datastreams": reads.dataset_multi_datastreams(connection, found["id"]),
                "coverage": self.coverages.get(connection, found["id"]),
            }

        base = self.base(request)
        context = record.page_context(base, await self._read(request, work))
        t = Translator(language_of(request))
        context["jsonld"] = schemaorg.dataset(base, context, context.pop("coverage"), t)
        return self.page(request, "portal/dataset.html", **context)

    @_page
    async def collection(self, request: Request) -> Response:
        slug = _slug(request)

        def work(connection: Connection, hidden: Hidden) -> dict[str, Any]:
            found = find_collection(connection, slug, hidden)
            if found is None:
                raise NotFound(f"no collection '{slug}'")
            origin = source(found, hidden)
            listed = feature_reads.page(connection, origin, list(origin.base), COLLECTION_PAGE, 0)
            return {"collection": found, "items": listed.items, "matched": listed.matched}

        context = await self._read(request, work)
        context["downloads"] = record.collection_downloads(self.base(request), slug)
        return self.page(request, "portal/collection.html", **context)

    # --- features and Things -----------------------------------------------------------

    async def _feature(self, request: Request) -> dict[str, Any]:
        slug = _slug(request)
        feature_id = _number(request.path_params["fid"])
        now = datetime.now(UTC)
        reader = (await self.auth.principal(request)).reader

        def work(connection: Connection) -> dict[str, Any]:
            hidden = hidden_datasets(connection, reader)
            found = find_collection(connection, slug, hidden)
            item = None
            if found is not None and not found.is_sensors:
                item = feature_reads.one(connection, source(found, hidden), feature_id)
            if item is None:
                raise NotFound(f"no feature {feature_id} in collection '{slug}'")
            values = []
            if item.thing_id is not None:
                values = reads.current_values(connection, [item.thing_id], hidden, now)
            departures = departures_of(connection, item.properties, reader, now)
            return {"collection": found, "item": item, "values": values, "departures": departures}

        context = await self.store.read(work)
        context["centre"] = centre_of(context["item"].geometry)
        return context

    @_page
    async def feature(self, request: Request) -> Response:
        if request.path_params["slug"] == SENSORS:
            return RedirectResponse(f"../../things/{request.path_params['fid']}", 301)
        return self.page(request, "portal/feature.html", **await self._feature(request))

    @_page
    async def feature_card(self, request: Request) -> Response:
        if request.path_params["slug"] == SENSORS:
            return RedirectResponse(f"../../../things/{request.path_params['fid']}/card", 301)
        return self.page(request, "portal/card_feature.html", **await self._feature(request))

    async def _thing(self, request: Request) -> dict[str, Any]:
        thing_id = _number(request.path_params["id"])
        now = datetime.now(UTC)

        def work(connection: Connection, hidden: Hidden) -> dict[str, Any]:
            found = reads.thing(connection, thing_id, hidden)
            if found is None:
                raise NotFound(f"no Thing {thing_id}")
            return {
                "thing": found,
                "values": reads.current_values(connection, [thing_id], hidden, now),
            }

        context = await self._read(request, work)
        context["centre"] = centre_of(context["thing"]["geometry"])
        return context

    @_page
    async def thing(self, request: Request) -> Response:
        return self.page(request, "portal/thing.html", **await self._thing(request))

    @_page
    async def thing_card(self, request: Request) -> Response:
        return self.page(request, "portal/card_thing.html", **await self._thing(request))

    # --- Datastreams -------------------------------------------------------------------

    @_page
    async def datastream(self, request: Request) -> Response:
        datastream_id = _number(request.path_params["id"])
        now = datetime.now(UTC)
        backend = self.store.backend

        def work(connection: Connection, hidden: Hidden) -> dict[str, Any]:
            found = reads.datastream(connection, datastream_id, hidden, now)
            if found is None:
                raise NotFound(f"no Datastream {datastream_id}")
            span = series.parse_span(request.query_params, found["time"], now, self.zone)
            data = series.read(connection, backend, datastream_id, span, self.zone)
            return {"datastream": found, "series": data}

        context = await self._read(request, work)
        span = context["series"].span
        asked = {"range": span.name}
        if span.name == series.CUSTOM:
            asked.update(request.query_params.items())
        query = urlencode({k: asked[k] for k in ("range", "from", "to") if k in asked})
        chart = {
            "api": context["series"].api_path,
            "aggregated": context["series"].interval is not None,
            "unit": context["datastream"]["unit"],
            "messages": client_messages(language_of(request), "portal.chart."),
        }
        return self.page(
            request,
            "portal/datastream.html",
            ranges=[*series.RANGES, series.CUSTOM],
            chart=chart,
            canonical_query=query,
            **context,
        )

    # --- near me and today -------------------------------------------------------------

    @_page
    async def nearby(self, request: Request) -> Response:
        given = request.query_params.get("at")
        point = nearby.Point.parse(given) if given else nearby.Point(*self.settings.map_center)
        now = datetime.now(UTC)
        reader = (await self.auth.principal(request)).reader
        base = self.base(request)
        shown_base = self.settings.map_base_collection

        def work(connection: Connection) -> dict[str, Any]:
            hidden = hidden_datasets(connection, reader)
            collections = [
                c for c in visible_collections(connection, hidden) if c.slug != shown_base
            ]
            return {
                "groups": nearby.nearest_places(
                    connection, collections, point, hidden, reader, now
                ),
                "today": todays_figures(
                    connection, self.settings.portal_screen, base, self.zone, now
                ),
            }

        context = await self.store.read(work)
        return self.page(
            request,
            "portal/nearby.html",
            point=point,
            located=given is not None,
            now=now,
            canonical_query=urlencode({"at": point.query}) if given else "",
            messages=client_messages(language_of(request), "portal.nearby."),
            **context,
        )

    # --- search ------------------------------------------------------------------------

    async def _search(self, request: Request) -> tuple[str, list[search.Hit]]:
        query = search.clean_query(request.query_params.get("q"))
        limit = _limit(request.query_params.get("limit"))
        hits = await self._read(request, lambda c, hidden: search.search(c, query, hidden, limit))
        return query, hits

    @_page
    async def search_page(self, request: Request) -> Response:
        query, hits = await self._search(request)
        return self.page(
            request,
            "portal/search.html",
            q=query,
            hits=hits,
            canonical_query=urlencode({"q": query}) if query else "",
        )

    async def search_json(self, request: Request) -> Response:
        query, hits = await self._search(request)
        return JSONResponse({"query": query, "results": [hit.json() for hit in hits]})


def _limit(text: str | None) -> int:
    if text is None or text == "":
        return 50
    if not is_digits(text) or not 1 <= int(text) <= 200:
        raise BadRequest(f"limit must be a whole number from 1 to 200, not '{text}'")
    return int(text)
