"""The SensorThings API 1.1 face at ``/v1.1``: parse the request, ask the store, serialise.

Every request is handled in three steps, so a batch can run many of them in one transaction:
the HTTP handler (async) checks the token and reads the body into a ``Call``; a planner
(``plan_get``, ``plan_post``, …) checks the call and returns a ``Plan``, whose ``work`` is a
function of a ``Connection`` that does the reading or writing; ``respond`` turns the work's
result into the response. ``run`` executes one plan: reads in a read transaction, writes
through the store's writer (group commit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from orjson import Fragment
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub.auth import Authenticator
from cityhub.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from cityhub.sensorthings import aggregate, data_array, json_patch, latest_page, reads, writes
from cityhub.sensorthings.batch import format_batch, parse_batch
from cityhub.sensorthings.batch_runner import BatchRunner
from cityhub.sensorthings.ingest import OBSERVATION, Loaded, ObservationCreate, ObservationLoad
from cityhub.sensorthings.model import ENTITY_TYPES, EntityType, Kind, target_of
from cityhub.sensorthings.options import LINK_SAFE, QueryOptions, parse_query_options
from cityhub.sensorthings.places import resolve_places
from cityhub.sensorthings.plan import BODY_METHODS, CREATE_OBSERVATIONS, VERSION, Call, Plan, T
from cityhub.sensorthings.reads import Expanded, Page, Paging, Record, Target
from cityhub.sensorthings.resource import ResourcePath, parse_resource_path
from cityhub.sensorthings.serialize import (
    next_link_parts,
    property_value,
    selected_names,
    serialize,
)
from cityhub.settings import Settings
from cityhub.store.access import Hidden, Reader, hidden_datasets
from cityhub.store.database import Store
from cityhub.web import JSONResponse, read_body, read_json

_REQ = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
CONFORMANCE = (
    _REQ + "datamodel",
    _REQ + "resource-path/resource-path-to-entities",
    _REQ + "request-data",
    _REQ + "create-update-delete",
    _REQ + "batch-request",
    _REQ + "data-array/data-array",
    _REQ + "multi-datastream",
)


class SensorThingsFace:
    """Handlers of the SensorThings face, bound to one store."""

    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth
        self.paging = Paging(settings.default_top, settings.max_top)
        self._planners: dict[str, Callable[[Call], Plan[Any]]] = {
            "GET": self.plan_get,
            "POST": self.plan_post,
            "PATCH": self.plan_patch,
            "PUT": self.plan_put,
            "DELETE": self.plan_delete,
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"/{VERSION}", self.service_root, methods=["GET"]),
            Route(f"/{VERSION}/", self.service_root, methods=["GET"]),
            Route(f"/{VERSION}/$batch", self.batch, methods=["POST"]),
            *aggregate.routes(self, VERSION),
            Route(
                f"/{VERSION}/{CREATE_OBSERVATIONS}",
                self.create_observations,
                methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            ),
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
        server_settings: dict[str, Any] = {"conformance": list(CONFORMANCE)}
        mqtt = getattr(request.app.state, "mqtt", None)
        if mqtt is not None:
            mqtt.describe(server_settings, request.url.hostname)
        return JSONResponse(
            {
                "value": [{"name": e.set_name, "url": f"{url}/{e.set_name}"} for e in ENTITY_TYPES],
                "serverSettings": server_settings,
            }
        )

    async def dispatch(self, request: Request) -> Response:
        """One HTTP request: the token and body checked here, the rest by the planner."""
        path = parse_resource_path(request.path_params["path"])
        method = request.method
        body = None
        if method == "GET":
            principal = await self.auth.principal(request)
        else:
            principal = await self.auth.writer(request)
            if method in BODY_METHODS:
                body = await read_json(request, self.settings.max_body_bytes)
        call = Call(
            method,
            path,
            request.query_params.multi_items(),
            body,
            self.base_url(request),
            request.url.path,
            request.headers.get("content-type"),
            principal,
        )
        return await self.run(self.plan(call))

    def plan(self, call: Call) -> Plan[Any]:
        """The planner for the call's method; raises (4xx) if the request cannot be served."""
        return self._planners[call.method](call)

    async def run(self, plan: Plan[T]) -> Response:
        """Run one plan on its own: a read in a read transaction, a write in the writer."""
        if plan.writes:
            result = await self.store.write(plan.work)
        else:
            result = await self.store.read(plan.work)
        return plan.respond(result)

    async def batch(self, request: Request) -> Response:
        """``POST /v1.1/$batch`` (clause 11): many requests in one; change sets are atomic."""
        body = await read_body(request, self.settings.max_body_bytes)
        parsed = parse_batch(request.headers.get("content-type"), body)
        responses = await BatchRunner(self, request).run(parsed.items)
        content, media_type = format_batch(parsed.format, responses)
        return Response(content, media_type=media_type)

    # --- reading ----------------------------------------------------------------------------

    def plan_get(self, call: Call) -> Plan[Response]:
        parsed = parse_query_options(call.query)
        if parsed.result_format is not None:
            data_array.check_result_format(parsed.result_format)
        backend = self.store.backend
        path = call.path
        url = call.service_url

        def work(connection: Connection) -> Response:
            paging = self.reading(connection, call)
            target = reads.resolve(connection, path, paging.hidden)
            options = resolve_places(connection, parsed, paging.hidden)
            request = reads.PageRequest(connection, backend, target, options, paging, url)
            if options.result_format is not None:
                if path.ref or path.property_path:
                    raise BadRequest("$resultFormat applies to collections of Observations")
                page, groups = data_array.read_page(request)
                return JSONResponse(self._page_body(page, groups, options, call))
            if path.ref:
                return self._refs(connection, target, options, call, paging)
            if path.property_path:
                record = reads.read_entity(connection, backend, target, QueryOptions(), paging)
                return _property_response(target.entity, record, path)
            if target.single:
                record = reads.read_entity(connection, backend, target, options, paging)
                return JSONResponse(render(target.entity, record, url, options))
            latest = latest_page.read_page(request)
            if latest is not None:
                return JSONResponse(self._page_body(*latest, options, call))
            page = reads.read_collection(connection, backend, target, options, paging)
            items = [render(target.entity, record, url, options) for record in page.records]
            return JSONResponse(self._page_body(page, items, options, call))

        return Plan(work, _as_is, writes=False)

    def reading(self, connection: Connection, call: Call) -> Paging:
        """How ``call`` reads: the face's page sizes, and what its principal may not see."""
        return self.paging.for_reader(hidden_datasets(connection, call.principal.reader))

    def _page_body(
        self,
        page: Page,
        items: list[dict[str, Any]] | Fragment,
        options: QueryOptions,
        call: Call,
    ) -> dict[str, Any]:
        """A collection page: ``@iot.count`` if asked, the items (or their JSON text), a
        nextLink if there is more."""
        body: dict[str, Any] = {}
        if page.count is not None:
            body["@iot.count"] = page.count
        body["value"] = items
        if page.more:
            body["@iot.nextLink"] = self._next_link(call, options)
        return body

    def _next_link(self, call: Call, options: QueryOptions) -> str:
        top = self.paging.top(options)
        params = [
            (k, v)
            for k, v in call.query
            if k.lower() not in ("$skip", "$top")  # option names are case-insensitive
        ]
        params += [("$top", str(top)), ("$skip", str((options.skip or 0) + top))]
        query = urlencode(params, safe=LINK_SAFE)
        return f"{call.base_url}{call.url_path}?{query}"

    def _refs(
        self,
        connection: Connection,
        target: Target,
        options: QueryOptions,
        call: Call,
        paging: Paging,
    ) -> Response:
        entity = target.entity
        url = call.service_url
        if target.single:
            return JSONResponse({"@iot.selfLink": f"{url}/{entity.set_name}({target.id})"})
        page = reads.read_collection(connection, self.store.backend, target, options, paging)
        links = [{"@iot.selfLink": f"{url}/{entity.set_name}({r.row['id']})"} for r in page.records]
        return JSONResponse(self._page_body(page, links, options, call))

    # --- writing ----------------------------------------------------------------------------

    @staticmethod
    def writing(connection: Connection, call: Call) -> Hidden:
        """Prepare ``connection`` for a write by ``call``'s principal (``writes.write_as``);
        the datasets it may not see, and so not change."""
        hidden = hidden_datasets(connection, call.principal.reader)
        writes.write_as(connection, call.principal.dataset_id, hidden)
        return hidden

    async def create_observations(self, request: Request) -> Response:
        """``POST CreateObservations``: many Observations as dataArray groups (clause 13)."""
        if request.method != "POST":
            raise MethodNotAllowed("CreateObservations takes POST")
        principal = await self.auth.writer(request)
        body = await read_json(request, self.settings.max_body_bytes)
        plan = self.plan_create_observations(body, self.service_url(request), principal.reader)
        return await self.run(plan)

    def plan_create_observations(self, body: Any, service_url: str, reader: Reader) -> Plan[Loaded]:
        """The bulk load of ``CreateObservations``, alone or inside a batch."""
        groups = data_array.parse_create(body)

        def respond(loaded: Loaded) -> Response:
            return JSONResponse(data_array.created_links(loaded.ids, service_url), 201)

        return Plan(ObservationLoad(groups, reader), respond, writes=True)

    def plan_post(self, call: Call) -> Plan[Any]:
        path, body = call.path, call.body
        last = path.last
        if path.property_path or not last.is_collection:
            raise MethodNotAllowed("POST creates entities: send it to a collection, e.g. /Things")
        if path.ref:
            return self._plan_post_ref(call)
        entity = last.entity
        if entity is OBSERVATION and len(path.steps) == 1:
            # The ingest hot path: the writer commits many of these with a few statements.
            create = ObservationCreate(body, {}, call.principal.reader)
            return _entity_plan(create, entity, call, status=201)

        def work(connection: Connection) -> Record:
            hidden = self.writing(connection, call)
            fixed, parent = _parent_context(connection, path, hidden)
            if parent is not None and isinstance(body, dict) and list(body) == ["@iot.id"]:
                # POST Things(1)/Locations with {"@iot.id": 2}: link the existing Location.
                new_id = writes.link_id(entity, body, connection)
            else:
                new_id = writes.create(connection, entity, body, fixed)
            if parent is not None:
                writes.link_entities(connection, *parent, [new_id])
            return reads.read_by_id(connection, entity, new_id)

        return _entity_plan(work, entity, call, status=201)

    def _plan_post_ref(self, call: Call) -> Plan[None]:
        """``POST Things(1)/Locations/$ref`` with ``{"@iot.id": 2}`` adds a link."""
        path, body = call.path, call.body
        last = path.last
        if last.relation is None or last.relation.link is None:
            raise BadRequest("only many-to-many relations take new links through $ref")
        if not isinstance(body, dict) or "@iot.id" not in body:
            raise BadRequest('send the entity to link as {"@iot.id": <id>}')

        def work(connection: Connection) -> None:
            hidden = self.writing(connection, call)
            parent = reads.resolve(connection, ResourcePath(path.steps[:-1]), hidden)
            parent_id = parent.id
            target_id = writes.link_id(last.entity, body, connection)
            assert last.relation is not None
            writes.link_entities(connection, parent.entity, parent_id, last.relation, [target_id])

        return _empty_plan(work, status=204)

    def plan_patch(self, call: Call) -> Plan[Record]:
        return self._plan_update(call, replace=False)

    def plan_put(self, call: Call) -> Plan[Record]:
        return self._plan_update(call, replace=True)

    def _plan_update(self, call: Call, replace: bool) -> Plan[Record]:
        path, body = call.path, call.body
        if path.property_path or path.ref or path.last.is_collection:
            raise MethodNotAllowed("PATCH and PUT update one entity, e.g. /Things(1)")
        patch_document = json_patch.is_json_patch(call.content_type)
        if patch_document and replace:
            raise UnsupportedMediaType("PUT takes the whole entity as application/json")

        def work(connection: Connection) -> Record:
            target = reads.resolve(connection, path, self.writing(connection, call))
            entity_id = target.id
            changes = body
            if patch_document:
                current = reads.read_by_id(connection, target.entity, entity_id).row
                changes = json_patch.as_merge_patch(target.entity, current, body)
            writes.update_entity(connection, target.entity, entity_id, changes, replace)
            return reads.read_by_id(connection, target.entity, entity_id)

        return _entity_plan(work, path.last.entity, call, status=200)

    def plan_delete(self, call: Call) -> Plan[None]:
        path = call.path
        if path.property_path:
            raise MethodNotAllowed("DELETE removes an entity, e.g. /Things(1), not a property")
        if path.ref:
            return self._plan_delete_ref(call)
        if path.last.is_collection:
            raise MethodNotAllowed("DELETE removes one entity, e.g. /Things(1)")

        def work(connection: Connection) -> None:
            target = reads.resolve(connection, path, self.writing(connection, call))
            writes.delete_entity(connection, target.entity, target.id)

        return _empty_plan(work, status=200)

    def _plan_delete_ref(self, call: Call) -> Plan[None]:
        """``DELETE Things(1)/Locations(2)/$ref`` removes the link, not the Location."""
        path = call.path
        last = path.last
        if last.relation is None or last.id is None:
            raise BadRequest("address one related entity, e.g. Things(1)/Locations(2)/$ref")

        def work(connection: Connection) -> None:
            hidden = self.writing(connection, call)
            reads.resolve(connection, path, hidden)
            parent = reads.resolve(connection, ResourcePath(path.steps[:-1]), hidden)
            assert last.relation is not None
            assert last.id is not None
            parent_id = parent.id
            writes.unlink(connection, parent.entity, parent_id, last.relation, last.id)

        return _empty_plan(work, status=200)


def _as_is(response: Response) -> Response:
    return response


def _entity_plan(
    work: Callable[[Connection], Record], entity: EntityType, call: Call, status: int
) -> Plan[Record]:
    """A write answered with the entity it wrote; ``201`` also says where it lives."""
    url = call.service_url

    def respond(record: Record) -> Response:
        body = render(entity, record, url, QueryOptions())
        if status != 201:
            return JSONResponse(body, status_code=status)
        location = f"{url}/{entity.set_name}({record.row['id']})"
        return JSONResponse(body, status_code=201, headers={"Location": location})

    return Plan(work, respond, writes=True, entity=lambda record: (entity, record.row["id"]))


def _empty_plan(work: Callable[[Connection], None], status: int) -> Plan[None]:
    """A write answered with a status and no body."""
    return Plan(work, lambda _: Response(status_code=status), writes=True)


def _parent_context(
    connection: Connection, path: ResourcePath, hidden: Hidden
) -> tuple[dict[str, int], tuple[EntityType, int, Any] | None]:
    """For ``POST Things(1)/Datastreams``: the foreign key to fix, or the link to add."""
    last = path.last
    if last.relation is None:
        return {}, None
    parent = reads.resolve(connection, ResourcePath(path.steps[:-1]), hidden)
    parent_id = parent.id
    if last.relation.remote_fk:
        return {last.relation.remote_fk: parent_id}, None
    return {}, (parent.entity, parent_id, last.relation)


def render(entity: EntityType, record: Record, url: str, options: QueryOptions) -> dict[str, Any]:
    """An entity with its expanded relations, as JSON-ready dicts."""
    body = serialize(entity, record.row, url, selected_names(options.select))
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
    before, after = next_link_parts(
        url, entity, expanded.relation, expanded.options, len(expanded.items)
    )
    return f"{before}{record.row['id']}{after}"


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
