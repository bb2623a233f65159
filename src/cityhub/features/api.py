"""The OGC API – Features face at ``/features``: parse the request, read in one transaction,
encode as GeoJSON/JSON or HTML.

Conformance classes: Part 1 core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS; Part 3 queryables
and CQL2 filtering; Part 4 create, replace, update and delete (in ``transactions``).
Beyond the standard: ``near``/``radius`` and ``within`` on items,
``/nearby`` across collections and ``/collections/{id}/counts`` per district (docs/features.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from cityhub.auth import Authenticator
from cityhub.digits import is_digits
from cityhub.errors import BadRequest, NotFound
from cityhub.features import encode, geo, html, http, live, openapi, reads, sources
from cityhub.features import params as p
from cityhub.features.query import conditions, queryables, refreshing_resolver
from cityhub.features.sources import Collection, Source
from cityhub.features.summary import Summaries, Summary
from cityhub.features.transactions import FeatureWrites
from cityhub.settings import Settings
from cityhub.store.access import Hidden, hidden_datasets
from cityhub.store.database import Store
from cityhub.store.schema import features as features_table
from cityhub.timeutil import format_instant
from cityhub.web import JSONResponse

PREFIX = "/features"
NEARBY_DEFAULT, NEARBY_MAX = 5, 1000
_COUNTS_PARAMETERS = frozenset(
    {"f", "within", "bbox", "bbox-crs", "datetime", "filter", "filter-lang", "filter-crs"}
)
_NEARBY_PARAMETERS = frozenset({"f", "lon", "lat", "collections", "limit", "radius", "crs"})


class _Context:
    """One request's reading state: the connection, what is hidden, the summaries."""

    def __init__(self, connection: Connection, hidden: Hidden, summaries: Summaries) -> None:
        self.connection, self.hidden, self.summaries = connection, hidden, summaries
        self.backend = connection.dialect.name

    def collection(self, slug: str) -> Collection:
        found = sources.find_collection(self.connection, slug, self.hidden)
        if found is None:
            raise NotFound(
                f"no collection '{slug}'; the collections are listed at {PREFIX}/collections"
            )
        return found

    def summary(self, collection: Collection, source: Source, fresh: bool = False) -> Summary:
        return self.summaries.get(self.connection, collection, source, self.hidden, fresh=fresh)


class FeaturesFace:
    """Handlers of the features face, bound to one store."""

    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store, self.settings, self.auth = store, settings, auth
        self.summaries = Summaries()

    def routes(self) -> list[BaseRoute]:
        collection = PREFIX + "/collections/{collection}"
        return [
            Route(PREFIX, self.landing, methods=["GET"]),
            Route(PREFIX + "/", self.landing, methods=["GET"]),
            Route(PREFIX + "/conformance", self.conformance, methods=["GET"]),
            Route(PREFIX + "/api", self.api, methods=["GET"]),
            Route(PREFIX + "/collections", self.collections, methods=["GET"]),
            Route(collection, self.collection, methods=["GET"]),
            Route(collection + "/items", self.items, methods=["GET"]),
            Route(collection + "/items/{feature}", self.item, methods=["GET"]),
            Route(collection + "/queryables", self.queryables, methods=["GET"]),
            Route(collection + "/counts", self.counts, methods=["GET"]),
            Route(PREFIX + "/nearby", self.nearby, methods=["GET"]),
            *FeatureWrites(self.store, self.settings, self.auth, self.base).routes(PREFIX),
        ]

    def base(self, request: Request) -> str:
        return (self.settings.base_url or str(request.base_url)).rstrip("/") + PREFIX

    async def _read(self, request: Request, work: Callable[[_Context], Any]) -> Any:
        principal = await self.auth.principal(request)

        def run(connection: Connection) -> Any:
            hidden = hidden_datasets(connection, principal.reader)
            return work(_Context(connection, hidden, self.summaries))

        return await self.store.read(run)

    # --- the documents without data ---------------------------------------------------------

    async def landing(self, request: Request) -> Response:
        params = http.checked_params(request, frozenset({"f"}))
        document = encode.landing(self.base(request))
        return http.respond(params, request, document, html.landing)

    async def conformance(self, request: Request) -> Response:
        params = http.checked_params(request, frozenset({"f"}))
        return http.respond(params, request, encode.conformance(), html.conformance)

    async def api(self, request: Request) -> Response:
        http.checked_params(request, frozenset({"f"}))
        return JSONResponse(openapi.document(self.base(request)), media_type=encode.OPENAPI)

    # --- collections --------------------------------------------------------------------------

    async def collections(self, request: Request) -> Response:
        params = http.checked_params(request, frozenset({"f"}))
        base = self.base(request)

        def work(context: _Context) -> dict[str, Any]:
            found = sources.visible_collections(context.connection, context.hidden)
            summaries = [
                (one, context.summary(one, sources.source(one, context.hidden))) for one in found
            ]
            return encode.collections(base, summaries)

        return http.respond(params, request, await self._read(request, work), html.collections)

    async def collection(self, request: Request) -> Response:
        params = http.checked_params(request, frozenset({"f"}))
        slug, base = request.path_params["collection"], self.base(request)

        def work(context: _Context) -> dict[str, Any]:
            found = context.collection(slug)
            summary = context.summary(found, sources.source(found, context.hidden))
            return encode.collection(base, found, summary)

        return http.respond(params, request, await self._read(request, work), html.collection)

    async def queryables(self, request: Request) -> Response:
        params = http.checked_params(request, frozenset({"f"}))
        slug, base = request.path_params["collection"], self.base(request)

        def work(context: _Context) -> dict[str, Any]:
            found = context.collection(slug)
            summary = context.summary(found, sources.source(found, context.hidden), fresh=True)
            return encode.queryables(base, slug, summary)

        document = await self._read(request, work)
        if http.wants_html(params, request):
            return HTMLResponse(html.collection_queryables(document))
        return JSONResponse(document, media_type=encode.SCHEMA)

    # --- features -----------------------------------------------------------------------------

    async def items(self, request: Request) -> Response:
        params = dict(http.multi(request))
        as_html = http.wants_html(params, request)
        slug, base = request.path_params["collection"], self.base(request)

        def work(context: _Context) -> tuple[dict[str, Any], str]:
            collection = context.collection(slug)
            source = sources.source(collection, context.hidden)
            summary = context.summary(collection, source)
            if set(params) - p.ITEMS_PARAMETERS - summary.names:
                summary = context.summary(collection, source, fresh=True)
            query = p.parse_items(params, summary.names)
            found = self._conditions(context, query, collection, source, summary)
            page = _items_page(context, query, source, found)
            url = f"{base}/collections/{slug}/items"
            kept = {name: values[0] for name, values in params.items() if name != "f"}
            document = self._collection_document(context, page, base, slug, query.crs)
            document["links"] = encode.page_links(
                url, kept, query.offset, query.limit, len(page.items), page.matched
            )
            return document, query.crs

        document, target = await self._read(request, work)
        headers = {"Content-Crs": f"<{target}>"}
        if as_html:
            return HTMLResponse(html.features(document, slug), headers=headers)
        return JSONResponse(document, media_type=encode.GEOJSON, headers=headers)

    def _conditions(
        self,
        context: _Context,
        query: p.ItemsQuery,
        collection: Collection,
        source: Source,
        summary: Summary,
    ) -> list[Any]:
        def refresh() -> dict[str, Any]:
            return queryables(source, context.summary(collection, source, True), context.hidden)

        resolve = refreshing_resolver(queryables(source, summary, context.hidden), refresh)
        found = conditions(query, source, resolve, summary, context.backend)
        if query.within is not None:
            found += geo.within(source, self._area(context, *query.within), context.backend)
        return found

    def _area(self, context: _Context, slug: str, feature: str) -> dict[str, Any]:
        """The geometry of the feature a ``within`` parameter names."""
        found = sources.find_collection(context.connection, slug, context.hidden)
        if found is None:
            raise BadRequest(f"'within': no collection '{slug}'")
        if not is_digits(feature) or len(feature) > 18:
            raise BadRequest(f"'within': feature ids are whole numbers, got {feature!r}")
        geometry = reads.geometry_of(
            context.connection, sources.source(found, context.hidden), int(feature)
        )
        if geometry is False:
            raise BadRequest(f"'within': no feature '{feature}' in collection '{slug}'")
        if geometry is None or geometry["type"] not in ("Polygon", "MultiPolygon"):
            raise BadRequest(f"'within': feature {slug}/{feature} is no polygon or multipolygon")
        return geometry

    def _collection_document(
        self, context: _Context, page: reads.Page, base: str, slug: str | None, target: str
    ) -> dict[str, Any]:
        values = live.latest_values(
            context.connection, (i.thing_id for i in page.items if i.thing_id), context.hidden
        )
        features = []
        for item in page.items:
            if item.thing_id is not None:
                item.properties = live.merge(item.properties, values.get(item.thing_id))
            item_slug = slug or str(item.properties.get("collection", ""))
            features.append(encode.feature(item, base, item_slug, target))
        document: dict[str, Any] = {"type": "FeatureCollection", "features": features}
        if page.matched is not None:
            document["numberMatched"] = page.matched
        document["numberReturned"] = len(features)
        document["timeStamp"] = format_instant(datetime.now(UTC))
        return document

    async def item(self, request: Request) -> Response:
        params = http.checked_params(request, frozenset({"f", "crs"}))
        as_html = http.wants_html(params, request)
        slug, base = request.path_params["collection"], self.base(request)
        feature_id = http.feature_id(request.path_params["feature"])
        target = http.target_crs(params)

        def work(context: _Context) -> dict[str, Any]:
            source = sources.source(context.collection(slug), context.hidden)
            item = reads.one(context.connection, source, feature_id)
            if item is None:
                raise NotFound(f"no feature {feature_id} in collection '{slug}'")
            if item.thing_id is not None:
                values = live.latest_values(context.connection, [item.thing_id], context.hidden)
                item.properties = live.merge(item.properties, values.get(item.thing_id))
            return encode.feature(item, base, slug, target)

        document = await self._read(request, work)
        headers = {"Content-Crs": f"<{target}>"}
        if as_html:
            return HTMLResponse(html.feature(document), headers=headers)
        return JSONResponse(document, media_type=encode.GEOJSON, headers=headers)

    # --- combination: near me, in this district -----------------------------------------------

    async def nearby(self, request: Request) -> Response:
        params = http.checked_params(request, _NEARBY_PARAMETERS)
        as_html = http.wants_html(params, request)
        base = self.base(request)
        point = p.Point(*http.lon_lat(params))
        limit = p.integer(p.single(params, "limit"), "limit", NEARBY_DEFAULT, 1, NEARBY_MAX)
        radius = p.parse_radius(p.single(params, "radius"))
        target = http.target_crs(params)
        wanted = [name for name in (p.single(params, "collections") or "").split(",") if name]

        def work(context: _Context) -> dict[str, Any]:
            chosen = [context.collection(name) for name in wanted] or [
                one
                for one in sources.visible_collections(context.connection, context.hidden)
                if not one.is_sensors
            ]
            items = _nearest(context, chosen, point, limit, radius)
            return self._collection_document(context, reads.Page(items, None), base, None, target)

        document = await self._read(request, work)
        headers = {"Content-Crs": f"<{target}>"}
        if as_html:
            return HTMLResponse(html.features(document, "In der Nähe / Nearby"), headers=headers)
        return JSONResponse(document, media_type=encode.GEOJSON, headers=headers)

    async def counts(self, request: Request) -> Response:
        params = dict(http.multi(request))
        as_html = http.wants_html(params, request)
        slug, base = request.path_params["collection"], self.base(request)
        areas_slug = p.single(params, "within")
        if not areas_slug:
            raise BadRequest(
                "'within' names the collection of areas to count in, e.g. within=districts"
            )

        def work(context: _Context) -> dict[str, Any]:
            collection = context.collection(slug)
            areas = context.collection(areas_slug)
            if areas.is_sensors:
                raise BadRequest("'within' names a collection of areas, not the sensors")
            source = sources.source(collection, context.hidden)
            summary = context.summary(collection, source)
            extra = set(params) - _COUNTS_PARAMETERS
            if extra - p.ITEMS_PARAMETERS - summary.names:
                summary = context.summary(collection, source, fresh=True)
            query = p.parse_items({k: v for k, v in params.items() if k != "within"}, summary.names)
            if extra & (p.ITEMS_PARAMETERS - _COUNTS_PARAMETERS):
                raise BadRequest(f"'{sorted(extra)[0]}' is no parameter of counts")
            found = self._conditions(context, query, collection, source, summary)
            alias = features_table.alias("area")
            area_source = sources.feature_source(areas.id, alias)  # type: ignore[arg-type]
            rows = reads.counts_within(context.connection, source, found, area_source)
            return {
                "collection": slug,
                "within": areas_slug,
                "counts": [
                    {
                        "id": area_id,
                        "title": properties.get("name") or properties.get("title"),
                        "count": count,
                        "href": f"{base}/collections/{areas_slug}/items/{area_id}",
                    }
                    for area_id, properties, count in rows
                ],
                "timeStamp": format_instant(datetime.now(UTC)),
            }

        document = await self._read(request, work)
        if as_html:
            return HTMLResponse(html.counts(document))
        return JSONResponse(document)


def _items_page(
    context: _Context, query: p.ItemsQuery, source: Source, found: list[Any]
) -> reads.Page:
    """A page of items by id, or, with ``near``, by distance."""
    if query.near is None:
        return reads.page(context.connection, source, found, query.limit, query.offset)
    distance = geo.Distance(source, query.near.lon, query.near.lat, context.backend)
    wanted = query.offset + query.limit
    near = reads.nearest(context.connection, source, found, distance, wanted, query.radius)
    page = reads.Page(near[query.offset :], None)
    if query.radius is not None:
        page.matched = reads.count_nearby(context.connection, source, found, distance, query.radius)
    return page


def _nearest(
    context: _Context, chosen: list[Collection], point: p.Point, limit: int, radius: float | None
) -> list[reads.Item]:
    """The nearest features of the stored collections in one index search, and of the
    sensors apart; merged by distance."""
    stored = {one.id: one.slug for one in chosen if not one.is_sensors}
    found: list[reads.Item] = []
    if stored:
        base = features_table.c.collection_id.in_(sorted(stored))
        source = Source(
            features_table, (base, *sources.alive(features_table)), True, ("collection_id",)
        )
        distance = geo.Distance(source, point.lon, point.lat, context.backend)
        for item in reads.nearest(
            context.connection, source, list(source.base), distance, limit, radius
        ):
            item.properties["collection"] = stored[item.properties.pop("collection_id")]
            found.append(item)
    if any(one.is_sensors for one in chosen):
        source = sources.sensor_source(context.hidden)
        distance = geo.Distance(source, point.lon, point.lat, context.backend)
        for item in reads.nearest(context.connection, source, [], distance, limit, radius):
            item.properties["collection"] = sources.SENSORS
            found.append(item)
    found.sort(key=lambda item: (item.distance or 0.0, item.id))
    return found[:limit]
