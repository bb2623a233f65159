"""The imports part of the admin API: upload a file into a collection, list a dataset's
collections, delete one. The same functions as ``cityhub import``."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Body
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cityhub.datasets.collections import delete_collection, list_collections, update_collection
from cityhub.digits import is_digits
from cityhub.errors import BadRequest, PayloadTooLarge
from cityhub.features.imports.crs import check_crs
from cityhub.features.imports.delimited import delimiter_option
from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Reader
from cityhub.features.imports.run import ImportTarget, StrictImportFailed, import_features
from cityhub.features.imports.sources import open_reader
from cityhub.settings import Settings
from cityhub.store.database import Store
from cityhub.web import JSONResponse, read_body

TAG = "admin: feature collections"
_FILE = {"type": "string", "format": "binary"}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": _FILE}, "required": ["file"]}
        },
        "application/geo+json": {"schema": _FILE},
        "text/csv": {"schema": _FILE},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": _FILE},
    },
}


def imports_router(store: Store, settings: Settings) -> APIRouter:
    router = APIRouter(tags=[TAG])
    limit = settings.max_import_bytes

    @router.get("/datasets/{dataset}/collections", summary="The dataset's collections, counted")
    async def list_all(dataset: str) -> JSONResponse:
        return JSONResponse(await store.read(lambda c: list_collections(c, dataset)))

    @router.patch(
        "/datasets/{dataset}/collections/{collection}",
        summary="Change a collection's title or description",
    )
    async def change(
        dataset: str,
        collection: str,
        fields: dict[str, Any] = Body(...),  # noqa: B008
    ) -> JSONResponse:
        return JSONResponse(
            await store.write(lambda c: update_collection(c, dataset, collection, fields))
        )

    @router.delete(
        "/datasets/{dataset}/collections/{collection}",
        status_code=204,
        summary="Delete a collection and its features",
    )
    async def remove(dataset: str, collection: str) -> Response:
        await store.write(lambda c: delete_collection(c, dataset, collection))
        return Response(status_code=204)

    @router.post(
        "/datasets/{dataset}/collections/{collection}/import",
        summary="Import a GeoJSON, CSV or XLSX file (multipart field 'file', or the raw body)",
        openapi_extra={"requestBody": UPLOAD_BODY},
    )
    async def upload(
        request: Request,
        dataset: str,
        collection: str,
        title: str | None = None,
        key: str | None = None,
        strict: bool = False,
        crs: str | None = None,
        lon: str | None = None,
        lat: str | None = None,
        wkt: str | None = None,
        delimiter: str | None = None,
        encoding: str | None = None,
        sheet: str | None = None,
        format: str | None = None,
    ) -> JSONResponse:
        data, name, media_type = await _received(request, limit)
        options = _options(format, crs, lon, lat, wkt, delimiter, encoding, sheet)
        target = ImportTarget(dataset, collection, title, key, strict, name or "upload")
        reader = await anyio.to_thread.run_sync(_reader, data, options, name, media_type)
        try:
            result = await store.write(lambda c: import_features(c, reader, target))
        except StrictImportFailed as exc:
            raise BadRequest(str(exc)) from None
        except ImportSourceError as exc:
            raise BadRequest(str(exc)) from None
        return JSONResponse(result.as_json())

    return router


async def _received(request: Request, limit: int) -> tuple[bytes, str | None, str | None]:
    """The uploaded file: a multipart form's ``file`` field, or the whole body."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().casefold()
    if media_type != "multipart/form-data":
        return await read_body(request, limit), None, media_type or None
    declared = request.headers.get("content-length", "")
    if is_digits(declared) and int(declared) > limit:
        raise PayloadTooLarge(f"the upload is larger than {limit} bytes (max_import_bytes)")
    async with request.form(max_files=1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("send the file in a multipart field named 'file'")
        data = await upload.read()
        return data, upload.filename, upload.content_type


def _options(
    format_: str | None, crs: str | None, lon: str | None, lat: str | None, wkt: str | None,
    delimiter: str | None, encoding: str | None, sheet: str | None,
) -> ImportOptions:  # fmt: skip
    if wkt and (lon or lat):
        raise BadRequest("give either lon and lat, or wkt")
    try:
        if crs:
            check_crs(crs)
        character = delimiter_option(delimiter)
        return ImportOptions(format_, crs, lon, lat, wkt, character, encoding, sheet)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _reader(
    data: bytes, options: ImportOptions, name: str | None, media_type: str | None
) -> Reader:
    try:
        return open_reader(data, options, name, media_type)
    except ImportSourceError as exc:
        raise BadRequest(str(exc)) from None
