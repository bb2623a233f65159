"""The SensorThings API 1.1 face at ``/v1.1``: parse the request, ask the store, serialise."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub.auth import Authenticator
from cityhub.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    NotImplementedYet,
    UnsupportedMediaType,
)
from cityhub.sensorthings import json_patch, reads, writes
from cityhub.sensorthings.ingest import OBSERVATION, ObservationCreate
from cityhub.sensorthings.model import ENTITY_TYPES, EntityType, Kind, target_of
from cityhub.sensorthings.options import LINK_SAFE, QueryOptions, parse_query_options
from cityhub.sensorthings.reads import Expanded, Page, Paging, Record, Target
from cityhub.sensorthings.resource import ResourcePath, parse_resource_path
from cityhub.sensorthings.serialize import property_value, serialize
from cityhub.settings import Settings
from cityhub.store.database import Store
from cityhub.web import JSONResponse, read_json

VERSION = "v1.1"
_REQ = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
CONFORMANCE = (
    _REQ + "datamodel",
    _REQ + "resource-path/resource-path-to-entities",
    _REQ + "request-data",
    _REQ + "create-update-delete",
)


class SensorThingsFace:
    """Handlers of the SensorThings face, bound to one store."""

    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth
        self.paging = Paging(settings.default_top, settings.max_top)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"/{VERSION}", self.service_root, methods=["GET"]),
            Route(f"/{VERSION}/", self.service_root, methods=["GET"]),
            Route(
                f"/{VERSION}/{{path:path}}",
                self.dispatch,
                methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            ),
        ]

    def base_url(self, request: Request) -> str:
        """The hub's public address: the configured one, or the one the request came to."""
        return (self.settings.base_url or str(request.base_url)).rstrip("/")

    def service_url(self, request: Request) -> str:
        return f"{self.base_url(request)}/{VERSION}"

    async def service_root(self, request: Request) -> Response:
        url = self.service_url(request)
        return JSONResponse(
            {
                "value": [{"name": e.set_name, "url": f"{url}/{e.set_name}"} for e in ENTITY_TYPES],
                "serverSettings": {"conformance": list(CONFORMANCE)},
            }
        )

    async def dispatch(self, request: Request) -> Response:
        path = parse_resource_path(request.path_params["path"])
        handler = {
            "GET": self.get,
            "POST": self.post,
            "PATCH": self.patch,
            "PUT": self.put,
            "DELETE": self.delete,
        }[request.method]
        return await handler(request, path)

    # --- reading ----------------------------------------------------------------------------

    async def get(self, request: Request, path: ResourcePath) -> Response:
        options = parse_query_options(request.query_params.multi_items())
        if options.result_format is not None:
            raise NotImplementedYet(f"$resultFormat={options.result_format} is not supported")
        backend = self.store.backend
        url = self.service_url(request)

        def work(connection: Connection) -> Response:
            target = reads.resolve(connection, path)
            if path.ref:
                return self._refs(connection, target, options, url, request)
            if path.property_path:
                record = reads.read_entity(connection, backend, target, QueryOptions(), self.paging)
                return _property_response(target.entity, record, path)
            if target.single:
                record = reads.read_entity(connection, backend, target, options, self.paging)
                return JSONResponse(render(target.entity, record, url, options))
            page = reads.read_collection(connection, backend, target, options, self.paging)
            items = [render(target.entity, record, url, options) for record in page.records]
            return JSONResponse(self._page_body(page, items, options, request))

        return await self.store.read(work)

    def _page_body(
        self,
        page: Page,
        items: list[dict[str, Any]],
        options: QueryOptions,
        request: Request,
    ) -> dict[str, Any]:
        """A collection page: ``@iot.count`` if asked, the items, a nextLink if there is more."""
        body: dict[str, Any] = {}
        if page.count is not None:
            body["@iot.count"] = page.count
        body["value"] = items
        if page.more:
            body["@iot.nextLink"] = self._next_link(request, options)
        return body

    def _next_link(self, request: Request, options: QueryOptions) -> str:
        top = self.paging.top(options)
        params = [
            (k, v)
            for k, v in request.query_params.multi_items()
            if k.lower() not in ("$skip", "$top")  # option names are case-insensitive
        ]
        params += [("$top", str(top)), ("$skip", str((options.skip or 0) + top))]
        query = urlencode(params, safe=LINK_SAFE)
        return f"{self.base_url(request)}{request.url.path}?{query}"

    def _refs(
        self,
        connection: Connection,
        target: Target,
        options: QueryOptions,
        url: str,
        request: Request,
    ) -> Response:
        entity = target.entity
        if target.single:
            return JSONResponse({"@iot.selfLink": f"{url}/{entity.set_name}({target.id})"})
        page = reads.read_collection(connection, self.store.backend, target, options, self.paging)
        links = [{"@iot.selfLink": f"{url}/{entity.set_name}({r.row['id']})"} for r in page.records]
        return JSONResponse(self._page_body(page, links, options, request))

    # --- writing ----------------------------------------------------------------------------

    async def post(self, request: Request, path: ResourcePath) -> Response:
        await self.auth.writer(request)
        body = await read_json(request, self.settings.max_body_bytes)
        url = self.service_url(request)
        last = path.last
        if path.property_path or not last.is_collection:
            raise MethodNotAllowed("POST creates entities: send it to a collection, e.g. /Things")
        if path.ref:
            return await self._post_ref(path, body)

        def work(connection: Connection) -> Record:
            fixed, parent = _parent_context(connection, path)
            if parent is not None and isinstance(body, dict) and list(body) == ["@iot.id"]:
                # POST Things(1)/Locations with {"@iot.id": 2}: link the existing Location.
                new_id = writes.link_id(last.entity, body, connection)
            else:
                new_id = writes.create(connection, last.entity, body, fixed)
            if parent is not None:
                writes.link_entities(connection, *parent, [new_id])
            return reads.read_by_id(connection, last.entity, new_id)

        entity = last.entity
        if entity is OBSERVATION and len(path.steps) == 1:
            record = await self.store.write(ObservationCreate(body, {}))
        else:
            record = await self.store.write(work)
        location = f"{url}/{entity.set_name}({record.row['id']})"
        return JSONResponse(
            render(entity, record, url, QueryOptions()),
            status_code=201,
            headers={"Location": location},
        )

    async def _post_ref(self, path: ResourcePath, body: Any) -> Response:
        """``POST Things(1)/Locations/$ref`` with ``{"@iot.id": 2}`` adds a link."""
        last = path.last
        if last.relation is None or last.relation.link is None:
            raise BadRequest("only many-to-many relations take new links through $ref")
        if not isinstance(body, dict) or "@iot.id" not in body:
            raise BadRequest('send the entity to link as {"@iot.id": <id>}')

        def work(connection: Connection) -> None:
            parent = reads.resolve(connection, ResourcePath(path.steps[:-1]))
            parent_id = parent.id
            target_id = writes.link_id(last.entity, body, connection)
            assert last.relation is not None
            writes.link_entities(connection, parent.entity, parent_id, last.relation, [target_id])

        await self.store.write(work)
        return Response(status_code=204)

    async def patch(self, request: Request, path: ResourcePath) -> Response:
        return await self._update(request, path, replace=False)

    async def put(self, request: Request, path: ResourcePath) -> Response:
        return await self._update(request, path, replace=True)

    async def _update(self, request: Request, path: ResourcePath, replace: bool) -> Response:
        await self.auth.writer(request)
        body = await read_json(request, self.settings.max_body_bytes)
        url = self.service_url(request)
        if path.property_path or path.ref or path.last.is_collection:
            raise MethodNotAllowed("PATCH and PUT update one entity, e.g. /Things(1)")
        patch_document = json_patch.is_json_patch(request.headers.get("content-type"))
        if patch_document and replace:
            raise UnsupportedMediaType("PUT takes the whole entity as application/json")

        def work(connection: Connection) -> tuple[EntityType, Record]:
            target = reads.resolve(connection, path)
            entity_id = target.id
            changes = body
            if patch_document:
                current = reads.read_by_id(connection, target.entity, entity_id).row
                changes = json_patch.as_merge_patch(target.entity, current, body)
            writes.update_entity(connection, target.entity, entity_id, changes, replace)
            return target.entity, reads.read_by_id(connection, target.entity, entity_id)

        entity, record = await self.store.write(work)
        return JSONResponse(render(entity, record, url, QueryOptions()))

    async def delete(self, request: Request, path: ResourcePath) -> Response:
        await self.auth.writer(request)
        if path.property_path:
            raise MethodNotAllowed("DELETE removes an entity, e.g. /Things(1), not a property")
        if path.ref:
            return await self._delete_ref(path)
        if path.last.is_collection:
            raise MethodNotAllowed("DELETE removes one entity, e.g. /Things(1)")

        def work(connection: Connection) -> None:
            target = reads.resolve(connection, path)
            writes.delete_entity(connection, target.entity, target.id)

        await self.store.write(work)
        return Response(status_code=200)

    async def _delete_ref(self, path: ResourcePath) -> Response:
        """``DELETE Things(1)/Locations(2)/$ref`` removes the link, not the Location."""
        last = path.last
        if last.relation is None or last.id is None:
            raise BadRequest("address one related entity, e.g. Things(1)/Locations(2)/$ref")

        def work(connection: Connection) -> None:
            reads.resolve(connection, path)
            parent = reads.resolve(connection, ResourcePath(path.steps[:-1]))
            assert last.relation is not None
            assert last.id is not None
            parent_id = parent.id
            writes.unlink(connection, parent.entity, parent_id, last.relation, last.id)

        await self.store.write(work)
        return Response(status_code=200)


def _parent_context(
    connection: Connection, path: ResourcePath
) -> tuple[dict[str, int], tuple[EntityType, int, Any] | None]:
    """For ``POST Things(1)/Datastreams``: the foreign key to fix, or the link to add."""
    last = path.last
    if last.relation is None:
        return {}, None
    parent = reads.resolve(connection, ResourcePath(path.steps[:-1]))
    parent_id = parent.id
    if last.relation.remote_fk:
        return {last.relation.remote_fk: parent_id}, None
    return {}, (parent.entity, parent_id, last.relation)


def render(entity: EntityType, record: Record, url: str, options: QueryOptions) -> dict[str, Any]:
    """An entity with its expanded relations, as JSON-ready dicts."""
    select_names = None
    if options.select is not None:
        select_names = frozenset(path[0] for path in options.select)
    body = serialize(entity, record.row, url, select_names)
    for expanded in record.expanded:
        relation = expanded.relation
        target = target_of(relation)
        items = [render(target, item, url, expanded.options) for item in expanded.items]
        if relation.many:
            if expanded.count is not None:
                body[f"{relation.name}@iot.count"] = expanded.count
            body[relation.name] = items
            if expanded.more:
                body[f"{relation.name}@iot.nextLink"] = _expanded_next_link(
                    url, entity, record, expanded
                )
        else:
            body[relation.name] = items[0] if items else None
    return body


def _expanded_next_link(url: str, entity: EntityType, record: Record, expanded: Expanded) -> str:
    """The next page of an expanded collection, with its inner options (but $top/$skip)."""
    self_link = f"{url}/{entity.set_name}({record.row['id']})/{expanded.relation.name}"
    top = len(expanded.items)
    paging = f"$top={top}&$skip={(expanded.options.skip or 0) + top}"
    query = expanded.options.link_query
    return f"{self_link}?{query}&{paging}" if query else f"{self_link}?{paging}"


def _property_response(entity: EntityType, record: Record, path: ResourcePath) -> Response:
    name, *members = path.property_path
    prop = entity.property_by_name[name]
    value = property_value(prop, record.row)
    for member in members:
        if prop.kind not in (Kind.OBJECT, Kind.ANY, Kind.GEOMETRY) or not isinstance(value, dict):
            raise NotFound(f"{entity.name}.{name} has no member '{member}'")
        if member not in value:
            raise NotFound(f"{entity.name}.{'/'.join(path.property_path)} does not exist")
        value = value[member]
    if value is None:
        return Response(status_code=204)
    if path.value:
        if isinstance(value, str):
            return Response(value, media_type="text/plain")
        return Response(JSONResponse(value).body, media_type="text/plain")
    return JSONResponse({path.property_path[-1]: value})
