"""Running a batch (clause 11): every request through the face's own planner and work.

Requests run one after the other, in request order. A request alone runs as it would over
HTTP (a read in a read transaction, a write through the writer); a change set is ONE write
function that runs the work of its requests in order in the writer's transaction, so they
commit together or, when one raises, not at all. ``$1`` at the start of a URL, and
``"@iot.id": "$1"`` in a body, name the entity that the request with Content-ID (or id) 1
created or changed earlier in the batch.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response

from cityhub.auth import ANONYMOUS
from cityhub.errors import (
    ApiError,
    BadRequest,
    FailedDependency,
    MethodNotAllowed,
)
from cityhub.sensorthings.batch import (
    ChangeSet,
    ChangeSetResponse,
    Item,
    PartRequest,
    PartResponse,
    ResponseItem,
)
from cityhub.sensorthings.model import EntityType
from cityhub.sensorthings.plan import BODY_METHODS, CREATE_OBSERVATIONS, VERSION, Call, Plan
from cityhub.sensorthings.resource import parse_resource_path
from cityhub.web import database_error, error_response

if TYPE_CHECKING:
    from cityhub.sensorthings.api import SensorThingsFace

log = logging.getLogger(__name__)

#: What ``$n`` stands for: the entity a request of the batch wrote.
References = dict[str, tuple[EntityType, int]]

#: A write queued with the writer: its place among the responses, request, plan, result.
_InFlight = tuple[int, PartRequest, Plan[Any], asyncio.Future[Any]]

_REFERENCE = re.compile(r"^\$([^/?]+)(.*)$", re.DOTALL)
_UNCHECKED = object()


class _PartFailed(Exception):
    """Raised inside a change set's transaction to roll it back, naming the failing request."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(f"request {index + 1} of the change set failed")
        self.index = index
        self.error = error


class BatchRunner:
    """Runs the items of one batch request for the face, with the batch's credentials."""

    def __init__(self, face: SensorThingsFace, request: Request) -> None:
        self.face = face
        self.request = request
        self.base_url = face.base_url(request)
        self.request_base_url = str(request.base_url).rstrip("/")
        self.references: References = {}
        self.failed: set[str] = set()  # ids and change sets that failed, for dependsOn
        self._auth_error: Any = _UNCHECKED
        self.principal = ANONYMOUS

    async def run(self, items: tuple[Item, ...]) -> list[ResponseItem]:
        self.principal = await self.face.auth.principal(self.request)
        responses: list[ResponseItem | None] = []
        in_flight: list[_InFlight] = []
        for item in items:
            if isinstance(item, PartRequest) and _independent_write(item):
                # Queued now and awaited later: the writer runs such writes in order and
                # commits them together, each still failing alone.
                responses.append(await self._submit(item, in_flight, len(responses)))
                continue
            await self._settle(in_flight, responses)
            if isinstance(item, ChangeSet):
                responses.append(await self._run_change_set(item))
            else:
                responses.append(await self._run_alone(item))
        await self._settle(in_flight, responses)
        return [response for response in responses if response is not None]

    # --- a request alone ----------------------------------------------------------------

    async def _prepare(self, request: PartRequest) -> Plan[Any]:
        self._check_dependencies(request)
        await self._authorise(request)
        return self._plan(request, self.references)

    async def _run_alone(self, request: PartRequest) -> PartResponse:
        try:
            plan = await self._prepare(request)
            store = self.face.store
            result = await (store.write if plan.writes else store.read)(plan.work)
        except Exception as exc:
            return self._failed_alone(request, exc)
        return self._answered(request, plan, result)

    async def _submit(
        self, request: PartRequest, in_flight: list[_InFlight], position: int
    ) -> PartResponse | None:
        """Queue a write with the writer; ``None`` holds its place until it is settled."""
        try:
            plan = await self._prepare(request)
        except Exception as exc:
            return self._failed_alone(request, exc)
        in_flight.append((position, request, plan, self.face.store.submit_write(plan.work)))
        return None

    async def _settle(
        self, in_flight: list[_InFlight], responses: list[ResponseItem | None]
    ) -> None:
        """Wait for the queued writes and put their answers in their places."""
        for position, request, plan, future in in_flight:
            try:
                result = await future
            except Exception as exc:
                responses[position] = self._failed_alone(request, exc)
            else:
                responses[position] = self._answered(request, plan, result)
        in_flight.clear()

    def _answered(self, request: PartRequest, plan: Plan[Any], result: Any) -> PartResponse:
        _remember(request, plan, result, self.references)
        return _part(request.id, plan.respond(result))

    def _failed_alone(self, request: PartRequest, error: Exception) -> PartResponse:
        if request.id is not None:
            self.failed.add(request.id)
        return _error_part(request.id, error)

    # --- a change set ---------------------------------------------------------------------

    async def _run_change_set(self, change_set: ChangeSet) -> ChangeSetResponse:
        for index, request in enumerate(change_set.requests):
            try:
                self._check_dependencies(request)
                await self._authorise(request)
            except ApiError as exc:
                return self._failed(change_set, index, exc)
        store = self.face.store
        writes = any(request.method != "GET" for request in change_set.requests)
        try:
            outcomes, references = await (store.write if writes else store.read)(
                self._change_set_work(change_set)
            )
        except _PartFailed as failure:
            return self._failed(change_set, failure.index, failure.error)
        except Exception as exc:  # the writer could not reach the database
            return self._failed(change_set, 0, exc)
        self.references = references
        responses = [
            _part(request.id, plan.respond(result))
            for request, (plan, result) in zip(change_set.requests, outcomes, strict=True)
        ]
        return ChangeSetResponse(change_set.id, tuple(responses))

    def _change_set_work(
        self, change_set: ChangeSet
    ) -> Callable[[Connection], tuple[list[tuple[Plan[Any], Any]], References]]:
        """One write function for the writer: the parts' work in order, in its transaction.

        It keeps no state between calls: the writer may run it a second time in a savepoint
        when it shares a transaction with other writes.
        """
        known = dict(self.references)

        def work(connection: Connection) -> tuple[list[tuple[Plan[Any], Any]], References]:
            references = dict(known)
            outcomes: list[tuple[Plan[Any], Any]] = []
            for index, request in enumerate(change_set.requests):
                try:
                    plan = self._plan(request, references)
                    result = plan.work(connection)
                except Exception as exc:
                    raise _PartFailed(index, exc) from exc
                _remember(request, plan, result, references)
                outcomes.append((plan, result))
            return outcomes, references

        return work

    def _failed(self, change_set: ChangeSet, index: int, error: Exception) -> ChangeSetResponse:
        """The failing request's error; the others answer 424, as nothing of them remains."""
        requests = change_set.requests
        failing = _error_part(requests[index].id, error)
        name = requests[index].id or str(index + 1)
        undone = FailedDependency(
            f"not applied: request {name} of the same change set failed, so none of it was"
        )
        responses = [
            failing if i == index else _error_part(r.id, undone) for i, r in enumerate(requests)
        ]
        self.failed.update(r.id for r in requests if r.id is not None)
        if change_set.id is not None:
            self.failed.add(change_set.id)
        return ChangeSetResponse(change_set.id, tuple(responses), failed=failing)

    # --- shared ---------------------------------------------------------------------------

    def _check_dependencies(self, request: PartRequest) -> None:
        failed = [name for name in request.depends_on if name in self.failed]
        if failed:
            raise FailedDependency(f"not run: it depends on {', '.join(failed)}, which failed")

    async def _authorise(self, request: PartRequest) -> None:
        """Writes need a writing token in the batch's Authorization header; reads do not."""
        if request.method == "GET":
            return
        if self._auth_error is _UNCHECKED:
            try:
                await self.face.auth.writer(self.request)
                self._auth_error = None
            except ApiError as exc:
                self._auth_error = exc
        if self._auth_error is not None:
            raise self._auth_error

    def _plan(self, request: PartRequest, references: References) -> Plan[Any]:
        resource = self._resource(request.url, references)
        path_text, _, query = resource.partition("?")
        body = None
        if request.method in BODY_METHODS:
            body = _with_references(request.body, references)
        if path_text.strip("/") == CREATE_OBSERVATIONS:
            if request.method != "POST":
                raise MethodNotAllowed("CreateObservations takes POST")
            service_url = f"{self.base_url}/{VERSION}"
            return self.face.plan_create_observations(body, service_url, self.principal.reader)
        call = Call(
            request.method,
            parse_resource_path(unquote(path_text)),
            parse_qsl(query, keep_blank_values=True),
            body,
            self.base_url,
            f"/{VERSION}/{path_text}",
            request.content_type,
            self.principal,
        )
        return self.face.plan(call)

    def _resource(self, url: str, references: References) -> str:
        """The address after ``/v1.1/``, from a relative, absolute or ``$n`` URL."""
        match = _REFERENCE.match(url)
        if match is not None:
            entity, entity_id = _referenced(match[1], references)
            return f"{entity.set_name}({entity_id}){match[2]}"
        if "://" in url:
            for base in {self.base_url, self.request_base_url}:
                if url.startswith(f"{base}/{VERSION}/"):
                    return url.removeprefix(f"{base}/{VERSION}/")
            raise BadRequest(f"'{url}' is not an address of this service ({self.base_url})")
        if url.startswith("/"):
            for prefix in {f"{urlsplit(self.base_url).path}/{VERSION}/", f"/{VERSION}/"}:
                if url.startswith(prefix):
                    return url.removeprefix(prefix)
            raise BadRequest(f"'{url}' is not an address of this service: use /{VERSION}/…")
        return url


def _independent_write(request: PartRequest) -> bool:
    """A write that needs nothing from the requests before it (no ``$n``, no dependsOn)."""
    return (
        request.method != "GET"
        and not request.depends_on
        and not request.url.startswith("$")
        and not _has_references(request.body)
    )


def _has_references(body: Any) -> bool:
    if isinstance(body, list):
        return any(_has_references(item) for item in body)
    if not isinstance(body, dict):
        return False
    entity_id = body.get("@iot.id")
    if isinstance(entity_id, str) and entity_id.startswith("$"):
        return True
    return any(_has_references(value) for value in body.values())


def _referenced(name: str, references: References) -> tuple[EntityType, int]:
    if name not in references:
        raise BadRequest(
            f"'${name}' names no earlier request of this batch with Content-ID (or id) "
            f"'{name}' that created or changed an entity"
        )
    return references[name]


def _with_references(body: Any, references: References) -> Any:
    """The body with every ``"@iot.id": "$n"`` replaced by the id of that entity."""
    if isinstance(body, list):
        return [_with_references(item, references) for item in body]
    if not isinstance(body, dict):
        return body
    replaced = {key: _with_references(value, references) for key, value in body.items()}
    entity_id = body.get("@iot.id")
    if isinstance(entity_id, str) and entity_id.startswith("$"):
        replaced["@iot.id"] = _referenced(entity_id[1:], references)[1]
    return replaced


def _remember(request: PartRequest, plan: Plan[Any], result: Any, references: References) -> None:
    if request.id is None:
        return
    entity = plan.entity(result)
    if entity is not None:
        references[request.id] = entity


def _part(request_id: str | None, response: Response) -> PartResponse:
    headers = tuple((k, v) for k, v in response.headers.items() if k != "content-length")
    return PartResponse(request_id, response.status_code, headers, bytes(response.body))


def _error_part(request_id: str | None, error: Exception) -> PartResponse:
    """A failed request's response, as the HTTP face would answer it alone."""
    if isinstance(error, _PartFailed):
        error = error.error
    if not isinstance(error, ApiError):
        error = _api_error(error)
    return _part(request_id, error_response(error))


def _api_error(error: Exception) -> ApiError:
    known = database_error(error) if isinstance(error, DBAPIError) else None
    if known is not None:
        return known
    log.error("unexpected error in a batch request", exc_info=error)
    return ApiError("internal server error; the details are in the server log")
