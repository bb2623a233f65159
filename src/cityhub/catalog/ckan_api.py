"""A CKAN-compatible action API at ``/api/3/action/{action}`` (and ``/api/action/…``): the
read actions harvesters and CKAN clients call, answered as CKAN 2.10 answers, over the same
records as the DCAT-AP.de catalog.

Parameters come as a query string (GET) or a JSON or form body (POST), as CKAN takes them.
Every listing and search shows public datasets only, whoever asks; ``package_show`` of a
restricted dataset answers a token that may read it and is "Not found" for everyone else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub import __version__
from cityhub.auth import Authenticator
from cityhub.catalog import ckan, ckan_search, records
from cityhub.catalog.http import base_of
from cityhub.catalog.profile import Profile, profile
from cityhub.datasets.vocabularies import LICENCES
from cityhub.errors import ApiError
from cityhub.settings import Settings
from cityhub.store.access import hidden_datasets
from cityhub.store.database import Store
from cityhub.web import JSONResponse, read_body

CKAN_VERSION = "2.10.4"
_ERROR_TYPES = {400: "Bad Request", 404: "Not Found Error", 409: "Validation Error"}

#: The read actions answered, each a method of ``CkanFace`` of that name.
ACTIONS = (
    "status_show",
    "package_list",
    "package_show",
    "package_search",
    "organization_list",
    "organization_show",
    "group_list",
    "license_list",
    "tag_list",
)
#: Where CKAN clients look for the actions: API version 3, and without a version.
PREFIXES = ("/api/3/action", "/api/action")

Params = dict[str, Any]
Action = Callable[[Request, Params], Awaitable[Any]]


class CkanError(Exception):
    """An error in CKAN's shape: its status, ``__type`` and further fields."""

    def __init__(self, status: int, message: str, kind: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        kind = kind or _ERROR_TYPES.get(status, "Internal Error")
        self.body = {"__type": kind, "message": message}
        self.body.update(fields)


def _not_found(what: str) -> CkanError:
    return CkanError(404, f"Not found: {what}")


def _missing(name: str) -> CkanError:
    return CkanError(409, f"Missing value: {name}", **{name: ["Missing value"]})


class CkanFace:
    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth
        self.actions: dict[str, Action] = {name: getattr(self, name) for name in ACTIONS}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{prefix}/{{action}}", self.call, methods=["GET", "POST"]) for prefix in PREFIXES
        ]

    async def call(self, request: Request) -> Response:
        name = request.path_params["action"]
        help_url = f"{base_of(self.settings, request)}/api/3/action/help_show?name={name}"
        try:
            action = self.actions.get(name)
            if action is None:
                raise CkanError(400, f"Bad request - Action name not known: {name}")
            result = await action(request, await self._params(request))
        except CkanError as error:
            body = {"help": help_url, "success": False, "error": error.body}
            return JSONResponse(body, status_code=error.status)
        except ApiError as error:
            search = isinstance(error, ckan_search.SearchQueryError)
            failed = CkanError(
                error.status, error.message, "Search Query Error" if search else None
            )
            body = {"help": help_url, "success": False, "error": failed.body}
            return JSONResponse(body, status_code=error.status)
        return JSONResponse({"help": help_url, "success": True, "result": result})

    async def _params(self, request: Request) -> Params:
        params: Params = dict(request.query_params)
        if request.method != "POST":
            return params
        body = await read_body(request, self.settings.max_body_bytes)
        if not body.strip():
            return params
        if "json" in request.headers.get("content-type", "application/json"):
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise CkanError(400, f"Bad request - JSON Error: {exc}") from None
            if not isinstance(parsed, dict):
                raise CkanError(400, "Bad request - the JSON body must be an object")
            params.update(parsed)
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace")))
        return params

    def profile(self, request: Request) -> Profile:
        return profile(self.settings, base_of(self.settings, request))

    async def _public(self) -> list[records.Record]:
        return await self.store.read(lambda c: records.read(c, records.Selection()))

    # --- actions -----------------------------------------------------------------------

    async def status_show(self, request: Request, params: Params) -> Any:
        described = self.profile(request)
        return {
            "site_title": described.title,
            "site_description": described.description,
            "site_url": described.base,
            "ckan_version": CKAN_VERSION,
            "locale_default": "de",
            "error_emails_to": None,
            "extensions": ["dcat", "dcatde", f"cityhub/{__version__}"],
        }

    async def package_list(self, request: Request, params: Params) -> Any:
        names = [found.slug for found in await self.store.read(records.summaries)]
        return _window(names, params)

    async def package_show(self, request: Request, params: Params) -> Any:
        ref = params.get("id") or params.get("name")
        if not ref or not isinstance(ref, str):
            raise _missing("id")
        reader = (await self.auth.principal(request)).reader

        def work(connection: Connection) -> list[records.Record]:
            hidden = hidden_datasets(connection, reader)
            selection = records.Selection(hidden=hidden)
            slugs = [s for s in records.slugs(connection, selection) if ref in (s, _id(s))]
            return records.read(connection, records.Selection(hidden=hidden, slugs=slugs))

        found = await self.store.read(work)
        if not found:
            raise _not_found("dataset")
        return ckan.package(self.profile(request), found[0])

    async def package_search(self, request: Request, params: Params) -> Any:
        q, fq = _text(params, "q"), _text(params, "fq")
        search = ckan_search.Search(
            q=f"{q} {fq}".strip(),
            sort=ckan_search.parse_sort(_text(params, "sort")),
            rows=_integer(params, "rows", 10, ckan_search.MAX_ROWS),
            start=_integer(params, "start", 0, None),
            facets=_names(params, "facet.field"),
            facet_limit=_integer(params, "facet.limit", ckan_search.FACET_LIMIT, None),
        )
        found = await self._public()
        described = self.profile(request)
        packages = {record.slug: ckan.package(described, record) for record in found}
        return ckan_search.search(search, found, packages)

    async def organization_list(self, request: Request, params: Params) -> Any:
        found, counts = await self.store.read(_organizations_and_counts)
        shown = [ckan.organization(org, counts[org.slug]) for org in found]
        return self._groups(shown, params)

    async def organization_show(self, request: Request, params: Params) -> Any:
        ref = params.get("id")
        if not ref:
            raise _missing("id")
        include = _flag(params, "include_datasets", default=False)

        def work(
            connection: Connection,
        ) -> tuple[records.Organization | None, int, list[records.Record]]:
            match = next(
                (
                    org
                    for org in records.organizations(connection)
                    if ref in (org.slug, ckan.stable_id("organization", org.slug))
                ),
                None,
            )
            if match is None:
                return None, 0, []
            mine = [s.slug for s in records.summaries(connection) if s.organization == match.slug]
            if not (include and mine):
                return match, len(mine), []
            return match, len(mine), records.read(connection, records.Selection(slugs=mine))

        match, count, found = await self.store.read(work)
        if match is None:
            raise _not_found("organization")
        shown = ckan.organization(match, count)
        if include:
            described = self.profile(request)
            shown["packages"] = [ckan.package(described, record) for record in found]
        return shown

    async def group_list(self, request: Request, params: Params) -> Any:
        summaries = await self.store.read(records.summaries)
        counts = Counter(theme for found in summaries for theme in found.themes)
        shown = [ckan.group(theme, counts[theme]) for theme in ckan.all_groups()]
        return self._groups(shown, params)

    async def license_list(self, request: Request, params: Params) -> Any:
        return [ckan.licence(key) for key in LICENCES]

    async def tag_list(self, request: Request, params: Params) -> Any:
        summaries = await self.store.read(records.summaries)
        names = sorted({keyword for found in summaries for keyword in found.keywords})
        query = _text(params, "query").casefold()
        names = [name for name in names if query in name.casefold()]
        if _flag(params, "all_fields", default=False):
            return [ckan.tag(name) for name in names]
        return names

    def _groups(self, shown: list[dict[str, Any]], params: Params) -> list[Any]:
        """CKAN's listing of organizations or groups: sorted, windowed, names or dicts."""
        sort = _text(params, "sort") or "name asc"
        key, _, direction = sort.partition(" ")
        if key not in ("name", "title", "package_count"):
            raise CkanError(409, f"cannot sort by '{key}'; use name, title or package_count")
        shown.sort(key=lambda item: item[key], reverse=direction.strip().lower() == "desc")
        shown = _window(shown, params)
        if _flag(params, "all_fields", default=False):
            return shown
        return [item["name"] for item in shown]


def _id(slug: str) -> str:
    return ckan.stable_id("dataset", slug)


def _organizations_and_counts(
    connection: Connection,
) -> tuple[list[records.Organization], Counter[str]]:
    counts = Counter(
        found.organization for found in records.summaries(connection) if found.organization
    )
    return records.organizations(connection), counts


def _window(items: list[Any], params: Params) -> list[Any]:
    offset = _integer(params, "offset", 0, None)
    limit = _integer(params, "limit", None, None)
    return items[offset:] if limit is None else items[offset : offset + limit]


def _integer(params: Params, name: str, default: int | None, maximum: int | None) -> Any:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CkanError(409, f"Invalid integer: {name}", **{name: ["Invalid integer"]}) from None
    if number < 0:
        raise CkanError(409, f"Must be a natural number: {name}", **{name: ["Must be >= 0"]})
    return number if maximum is None else min(number, maximum)


def _text(params: Params, name: str) -> str:
    """A text parameter; a number is taken as its text, a list or an object is a 409."""
    value = params.get(name)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise CkanError(409, f"Invalid value: {name}", **{name: ["Must be a string"]})
    return str(value)


def _names(params: Params, name: str) -> list[str]:
    """A list of names: a JSON list (in a body, or as a parameter's text) or one name."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return [value]
    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    return [str(item) for item in value]


def _flag(params: Params, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")
