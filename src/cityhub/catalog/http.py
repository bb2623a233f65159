"""The DCAT-AP.de catalog at ``/catalog``: Turtle, RDF/XML or JSON-LD by content negotiation
or suffix, paged as ckanext-dcat pages (Hydra); one dataset's record at
``/catalog/datasets/{slug}``.

The catalog lists public datasets only, whoever asks: it is what harvesters copy. One
dataset's record honours the reader's token, so a restricted dataset's record is there for a
token that may read it (with ``dct:accessRights`` RESTRICTED) and absent (404) for others.

Every answer carries validators (``catalog/validators.py``), read before anything else; a
client whose copy is current gets a 304 and the records are neither read nor rendered.
"""

from __future__ import annotations

import anyio.to_thread
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub import conditional
from cityhub.auth import Authenticator
from cityhub.catalog import records, validators
from cityhub.catalog.dcat import Paging, catalog_triples, record_triples
from cityhub.catalog.profile import Profile, profile
from cityhub.catalog.rdf import MEDIA_TYPES, render
from cityhub.catalog.validators import Validators
from cityhub.digits import is_digits
from cityhub.errors import BadRequest, NotFound
from cityhub.settings import Settings
from cityhub.store.access import hidden_datasets
from cityhub.store.database import Store

MAX_PAGE_SIZE = 1000
_BY_MEDIA_TYPE = {media_type: suffix for suffix, media_type in MEDIA_TYPES.items()}
_BY_MEDIA_TYPE["application/json"] = "jsonld"
_BY_MEDIA_TYPE["application/xml"] = "rdf"


def base_of(settings: Settings, request: Request) -> str:
    """The hub's public URL: the ``base_url`` setting, else the request's."""
    return (settings.base_url or str(request.base_url)).rstrip("/")


def negotiate(accept: str | None) -> str:
    """The suffix of the serialisation an Accept header prefers; Turtle by default."""
    best, best_q = "ttl", 0.0
    for position, part in enumerate((accept or "").split(",")):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            if parameter.startswith("q="):
                try:
                    quality = float(parameter[2:])
                except ValueError:
                    quality = 0.0
        suffix = _BY_MEDIA_TYPE.get(media_type.lower())
        # Equal qualities: the first listed wins (a small nudge keeps earlier ones ahead).
        quality -= position * 1e-6
        if suffix is not None and quality > best_q:
            best, best_q = suffix, quality
    return best


def split_suffix(name: str) -> tuple[str, str | None]:
    """``catalog.ttl`` → (``catalog``, ``ttl``); no known suffix → (name, None)."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in MEDIA_TYPES:
        return stem, suffix
    return name, None


class CatalogFace:
    def __init__(self, store: Store, settings: Settings, auth: Authenticator) -> None:
        self.store = store
        self.settings = settings
        self.auth = auth

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/catalog", self.catalog, methods=["GET"]),
            Route("/catalog.{suffix}", self.catalog, methods=["GET"]),
            Route("/catalog/datasets/{slug}", self.dataset, methods=["GET"]),
        ]

    def profile(self, request: Request) -> Profile:
        return profile(self.settings, base_of(self.settings, request))

    async def catalog(self, request: Request) -> Response:
        suffix = request.path_params.get("suffix")
        if suffix is not None and suffix not in MEDIA_TYPES:
            raise NotFound(f"no catalog format '.{suffix}'; use .ttl, .rdf or .jsonld")
        chosen = suffix or negotiate(request.headers.get("accept"))
        page = _number(request.query_params.get("page"), "page", 1)
        size = _number(
            request.query_params.get("page_size"), "page_size", self.settings.catalog_page_size
        )
        if size > MAX_PAGE_SIZE:
            raise BadRequest(f"'page_size' is at most {MAX_PAGE_SIZE}, not {size}")
        described = self.profile(request)
        sized = "page_size" in request.query_params
        selection = records.Selection(limit=size, offset=(page - 1) * size)

        def work(connection: Connection) -> tuple[Validators, Paging, list[records.Record] | None]:
            current = validators.state(connection, records.Selection())
            paging = _paging(request, described, suffix, current.count, page, size)
            if page > paging.last:
                raise NotFound(f"the catalog has {paging.last} pages of {size}; no page {page}")
            answer = current.validators("catalog", page, size, sized, suffix, chosen, described)
            if conditional.not_modified(request.headers, answer):
                return answer, paging, None  # the client's copy is current: read no more
            return answer, paging, records.read(connection, selection)

        answer, paging, found = await self.store.read(work)
        headers = _headers(answer, vary=suffix is None)
        if found is None:
            return Response(status_code=304, headers=headers)
        body = await anyio.to_thread.run_sync(
            render, lambda: catalog_triples(described, found, paging), chosen
        )
        return Response(body, media_type=MEDIA_TYPES[chosen], headers=headers)

    async def dataset(self, request: Request) -> Response:
        slug, suffix = split_suffix(request.path_params["slug"])
        chosen = suffix or negotiate(request.headers.get("accept"))
        reader = (await self.auth.principal(request)).reader
        described = self.profile(request)

        def work(connection: Connection) -> tuple[Validators, list[records.Record] | None]:
            selection = records.Selection(hidden_datasets(connection, reader), slugs=[slug])
            current = validators.state(connection, selection)
            if current.count == 0:
                raise NotFound(f"no dataset '{slug[:100]}'")
            answer = current.validators("dataset", slug, suffix, chosen, described)
            if conditional.not_modified(request.headers, answer):
                return answer, None
            return answer, records.read(connection, selection)

        answer, found = await self.store.read(work)
        headers = _headers(answer, vary=suffix is None)
        if found is None:
            return Response(status_code=304, headers=headers)
        body = render(lambda: record_triples(described, found[0]), chosen)
        return Response(body, media_type=MEDIA_TYPES[chosen], headers=headers)


def _paging(
    request: Request, described: Profile, suffix: str | None, total: int, page: int, size: int
) -> Paging:
    path = f"{described.catalog_iri}{'.' + suffix if suffix else ''}"
    sized = "" if "page_size" not in request.query_params else f"&page_size={size}"
    page_url = path + "?page={page}" + sized
    return Paging(page_url.format(page=page), total, page, size, page_url)


def _number(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    if not is_digits(text) or len(text) > 9 or int(text) < 1:
        raise BadRequest(f"'{name}' is a whole number from 1, not {text[:50]!r}")
    return int(text)


def _headers(answer: Validators, vary: bool) -> dict[str, str]:
    """Validators and caching; ``Vary: Accept`` where the format was negotiated."""
    headers = conditional.headers(answer, validators.MAX_AGE)
    if vary:
        headers["Vary"] = ", ".join(filter(None, ("Accept", headers.get("Vary"))))
    return headers
