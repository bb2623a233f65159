"""OGC API – Features Part 4 on ``/features``: create (POST), replace (PUT), update (PATCH,
JSON Merge Patch) and delete (DELETE) single features, each one transaction through
``cityhub.features.write``.

Only tokens of a writing role may write; a token bound to a dataset writes only that
dataset's collections; a collection the token may not read does not exist for it (404).
The ``sensors`` collection is the Things with a Location and is changed through SensorThings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub.auth import Authenticator, Principal
from cityhub.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from cityhub.features import crs, edits, http, reads, sources, write
from cityhub.features.sources import Collection
from cityhub.settings import Settings
from cityhub.store.access import hidden_datasets
from cityhub.store.database import Store
from cityhub.web import read_body

FEATURE_TYPES = ("application/geo+json", "application/json")
PATCH_TYPES = ("application/merge-patch+json", "application/json")
CONFORMANCE = tuple(
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/" + name
    for name in ("create-replace-delete", "update", "features")
)
_ITEMS_ALLOW = "GET, HEAD, POST, OPTIONS"
_ITEM_ALLOW = "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
_READ_ONLY_ALLOW = "GET, HEAD, OPTIONS"


class FeatureWrites:
    """The write handlers of the features face, bound to one store."""

    def __init__(
        self, store: Store, settings: Settings, auth: Authenticator, base: Callable[[Request], str]
    ) -> None:
        self.store, self.settings, self.auth, self.base = store, settings, auth, base

    def routes(self, prefix: str) -> list[BaseRoute]:
        items = prefix + "/collections/{collection}/items"
        return [
            Route(items, self.create, methods=["POST"]),
            Route(items, self.items_options, methods=["OPTIONS"]),
            Route(items + "/{feature}", self.replace, methods=["PUT"]),
            Route(items + "/{feature}", self.update, methods=["PATCH"]),
            Route(items + "/{feature}", self.delete, methods=["DELETE"]),
            Route(items + "/{feature}", self.item_options, methods=["OPTIONS"]),
        ]

    # --- the operations -----------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        slug = _writable_slug(request)
        principal = await self.auth.writer(request)
        body = await _body(request, FEATURE_TYPES, self.settings.max_body_bytes)
        target = _content_crs(request)

        def work(connection: Connection) -> int:
            collection = _collection(connection, slug, principal)
            record = edits.record_from_body(body, collection.key_property, target)
            return _keyed(
                collection,
                lambda: write.insert_feature(
                    connection, _id(collection), record, provenance=_provenance(principal)
                ),
            )

        feature_id = await self.store.write(work)
        location = f"{self.base(request)}/collections/{slug}/items/{feature_id}"
        return Response(status_code=201, headers={"Location": location})

    async def replace(self, request: Request) -> Response:
        slug, feature_id = _writable_slug(request), http.feature_id(request.path_params["feature"])
        principal = await self.auth.writer(request)
        body = await _body(request, FEATURE_TYPES, self.settings.max_body_bytes)
        target = _content_crs(request)

        def work(connection: Connection) -> None:
            collection = _collection(connection, slug, principal)
            current = _current(connection, collection, feature_id)
            record = edits.record_from_body(
                body,
                collection.key_property,
                target,
                feature_id=feature_id,
                thing_id=current.thing_id,
            )
            _store(connection, collection, current, record, principal)

        await self.store.write(work)
        return Response(status_code=204)

    async def update(self, request: Request) -> Response:
        slug, feature_id = _writable_slug(request), http.feature_id(request.path_params["feature"])
        principal = await self.auth.writer(request)
        patch = await _body(request, PATCH_TYPES, self.settings.max_body_bytes)
        target = _content_crs(request)

        def work(connection: Connection) -> None:
            collection = _collection(connection, slug, principal)
            current = _current(connection, collection, feature_id)
            geometry = current.geometry
            if geometry is not None and target != crs.CRS84:
                geometry = crs.transform_geometry(geometry, crs.from_storage(target))
            document = {"type": "Feature", "geometry": geometry, "properties": current.properties}
            merged = edits.patched(document, patch, feature_id)
            record = edits.record_from_body(
                merged, collection.key_property, target, thing_id=current.thing_id
            )
            _store(connection, collection, current, record, principal)

        await self.store.write(work)
        return Response(status_code=204)

    async def delete(self, request: Request) -> Response:
        slug, feature_id = _writable_slug(request), http.feature_id(request.path_params["feature"])
        principal = await self.auth.writer(request)

        def work(connection: Connection) -> None:
            collection = _collection(connection, slug, principal)
            if not write.delete_feature(connection, _id(collection), feature_id):
                raise _no_feature(slug, feature_id)

        await self.store.write(work)
        return Response(status_code=204)

    # --- what may be done where (OPTIONS) -----------------------------------------------------

    async def items_options(self, request: Request) -> Response:
        if request.path_params["collection"] == sources.SENSORS:
            return Response(status_code=204, headers={"Allow": _READ_ONLY_ALLOW})
        headers = {"Allow": _ITEMS_ALLOW, "Accept-Post": ", ".join(FEATURE_TYPES)}
        return Response(status_code=204, headers=headers)

    async def item_options(self, request: Request) -> Response:
        if request.path_params["collection"] == sources.SENSORS:
            return Response(status_code=204, headers={"Allow": _READ_ONLY_ALLOW})
        headers = {"Allow": _ITEM_ALLOW, "Accept-Patch": PATCH_TYPES[0]}
        return Response(status_code=204, headers=headers)


# --- the checks, in the order a request meets them ----------------------------------------------


def _writable_slug(request: Request) -> str:
    slug = request.path_params["collection"]
    if slug == sources.SENSORS:
        raise MethodNotAllowed(
            f"the '{sources.SENSORS}' collection is read-only: its features are the Things "
            "with a Location; change those through the SensorThings API (/v1.1/Things)"
        )
    return slug


async def _body(request: Request, accepted: tuple[str, ...], max_bytes: int) -> Any:
    """The JSON body, of one of the ``accepted`` media types (400 without a Content-Type)."""
    given = request.headers.get("content-type")
    if not given:
        raise BadRequest(f"the request has no Content-Type; send {accepted[0]}")
    media_type = given.split(";", 1)[0].strip().lower()
    if media_type not in accepted:
        raise UnsupportedMediaType(f"send {' or '.join(accepted)}, not {media_type}")
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        raise BadRequest(f"the request body is empty; send {accepted[0]}")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None


def _content_crs(request: Request) -> str:
    """The CRS of the body's geometries: the ``Content-Crs`` header, CRS84 without one."""
    given = request.headers.get("content-crs")
    if given is None:
        return crs.CRS84
    return crs.parse_crs(given.strip().removeprefix("<").removesuffix(">"), "Content-Crs")


def _collection(connection: Connection, slug: str, principal: Principal) -> Collection:
    """The collection, if the principal may see it (else 404) and write it (else 403)."""
    hidden = hidden_datasets(connection, principal.reader)
    found = sources.find_collection(connection, slug, hidden)
    if found is None:
        raise NotFound(
            f"no collection '{slug}'; the collections are listed at /features/collections"
        )
    if principal.dataset_id is not None and found.dataset_id != principal.dataset_id:
        raise Forbidden(
            f"the token '{principal.name}' is bound to another dataset than '{found.dataset}' "
            f"and may write only that dataset's collections"
        )
    return found


def _current(connection: Connection, collection: Collection, feature_id: int) -> reads.Item:
    item = reads.one(connection, sources.feature_source(_id(collection)), feature_id)
    if item is None:
        raise _no_feature(collection.slug, feature_id)
    return item


def _store(
    connection: Connection,
    collection: Collection,
    current: reads.Item,
    record: write.FeatureRecord,
    principal: Principal,
) -> None:
    """Write ``record`` over the ``current`` feature; the times it has (from its source) are
    kept, as a body has no place for them."""
    feature_id = current.id
    record = dataclasses.replace(record, time_start=current.time_start, time_end=current.time_end)

    def replace() -> bool:
        return write.replace_feature(
            connection, _id(collection), feature_id, record, provenance=_provenance(principal)
        )

    if not _keyed(collection, replace):
        raise _no_feature(collection.slug, feature_id)


def _keyed(collection: Collection, run: Callable[[], Any]) -> Any:
    try:
        return run()
    except write.KeyTaken as exc:
        raise Conflict(
            f"another feature of '{collection.slug}' has '{collection.key_property}' = "
            f"'{exc.key}'; the collection's features are identified by it, so it must be unique"
        ) from None


def _id(collection: Collection) -> int:
    assert collection.id is not None  # the sensors collection never gets this far
    return collection.id


def _no_feature(slug: str, feature_id: int) -> NotFound:
    return NotFound(f"no feature {feature_id} in collection '{slug}'")


def _provenance(principal: Principal) -> dict[str, Any]:
    return {"api": "features", "token": principal.name, "written_at": _now()}


def _now() -> str:
    return datetime.now(UTC).isoformat()
