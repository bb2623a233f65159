"""``/robots.txt`` and ``/sitemap.xml``: how search engines find the datasets.

The sitemap (sitemaps.org protocol 0.9) lists the portal's home, the list of datasets, every
public dataset's page with its last change, and every public collection's page. A restricted
dataset and its collections never appear, whoever asks: the sitemap is for the public. A
sitemap file holds at most 50,000 addresses; beyond that ``/sitemap.xml`` is a sitemap
index naming ``/sitemap-1.xml``, ``/sitemap-2.xml``, … (each page one indexed range of rows,
so a large hub is never read whole).

Addresses are absolute, from the setting ``base_url`` or else as the request reached the hub.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from sqlalchemy import Connection, Select, func, literal, select, union_all
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from cityhub.catalog.http import base_of
from cityhub.errors import NotFound
from cityhub.settings import Settings
from cityhub.store import schema
from cityhub.store.access import ANYONE, Hidden, hidden_datasets, in_visible_dataset
from cityhub.store.database import Store
from cityhub.timeutil import format_instant

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: The protocol's limit of addresses in one sitemap file.
MAX_URLS = 50_000
#: The portal's own pages, before the datasets' and collections' (path, no lastmod).
PAGES = ("/", "/datasets")
#: What robots should leave alone: the admin pages and the admin API.
DISALLOWED = ("/admin", "/api/admin")

_datasets = schema.datasets
_collections = schema.collections
Entry = tuple[str, datetime | None]


class Crawlers:
    """The files search engines ask for first."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/robots.txt", self.robots, methods=["GET"]),
            Route("/sitemap.xml", self.sitemap, methods=["GET"]),
            Route("/sitemap-{page:int}.xml", self.sitemap_page, methods=["GET"]),
        ]

    async def robots(self, request: Request) -> Response:
        return PlainTextResponse(robots_txt(base_of(self.settings, request)))

    async def sitemap(self, request: Request) -> Response:
        base = base_of(self.settings, request)
        total = await self.store.read(count)
        if total > MAX_URLS:
            return _xml(sitemap_index(base, pages(total)))
        found = await self.store.read(lambda c: entries(c, 0, MAX_URLS))
        return _xml(urlset(base, found))

    async def sitemap_page(self, request: Request) -> Response:
        page = request.path_params["page"]
        total = await self.store.read(count)
        if not 1 <= page <= pages(total):
            raise NotFound(f"no sitemap page {page}; there are {pages(total)}")
        found = await self.store.read(lambda c: entries(c, (page - 1) * MAX_URLS, MAX_URLS))
        return _xml(urlset(base_of(self.settings, request), found))


def robots_txt(base: str) -> str:
    """Everything may be crawled but the admin faces; the sitemap is named absolutely."""
    prefix = urlsplit(base).path.rstrip("/")
    lines = ["User-agent: *", f"Allow: {prefix}/"]
    lines += [f"Disallow: {prefix}{path}" for path in DISALLOWED]
    return "\n".join([*lines, "", f"Sitemap: {base}/sitemap.xml", ""])


def pages(total: int) -> int:
    """How many sitemap files ``total`` addresses take (one at least)."""
    return max(1, -(-total // MAX_URLS))


def count(connection: Connection) -> int:
    """How many addresses the sitemap lists."""
    hidden = hidden_datasets(connection, ANYONE)
    listed = select(func.count()).select_from(_listing(hidden).subquery())
    return len(PAGES) + int(connection.scalar(listed) or 0)


def entries(connection: Connection, offset: int, limit: int) -> list[Entry]:
    """Addresses ``offset`` to ``offset + limit`` (paths, with their last change if known):
    the portal's pages, then the public datasets by slug, then the public collections."""
    fixed: list[Entry] = [(path, None) for path in PAGES][offset : offset + limit]
    offset = max(0, offset - len(PAGES))
    limit -= len(fixed)
    if limit <= 0:
        return fixed
    hidden = hidden_datasets(connection, ANYONE)
    listed = _listing(hidden).subquery()
    statement = (
        select(listed.c.prefix, listed.c.slug, listed.c.modified_at)
        .order_by(listed.c.kind, listed.c.slug)
        .offset(offset)
        .limit(limit)
    )
    rows = connection.execute(statement)
    return [*fixed, *((f"{prefix}{slug}", modified) for prefix, slug, modified in rows)]


def _listing(hidden: Hidden) -> Any:
    """The public datasets and the public collections, as (kind, prefix, slug, modified_at)."""
    datasets: Select[Any] = select(
        literal(0).label("kind"),
        literal("/datasets/").label("prefix"),
        _datasets.c.slug,
        _datasets.c.modified_at,
    )
    collections: Select[Any] = select(
        literal(1).label("kind"),
        literal("/collections/").label("prefix"),
        _collections.c.slug,
        _collections.c.modified_at,
    )
    if hidden:
        datasets = datasets.where(in_visible_dataset(_datasets.c.id, hidden))
        collections = collections.where(in_visible_dataset(_collections.c.dataset_id, hidden))
    return union_all(datasets, collections)


def urlset(base: str, found: list[Entry]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{NAMESPACE}">']
    for path, modified in found:
        lastmod = "" if modified is None else f"<lastmod>{_w3c(modified)}</lastmod>"
        lines.append(f"<url><loc>{escape(base + path)}</loc>{lastmod}</url>")
    return "\n".join([*lines, "</urlset>", ""])


def sitemap_index(base: str, count_of_pages: int) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{NAMESPACE}">']
    for page in range(1, count_of_pages + 1):
        lines.append(f"<sitemap><loc>{escape(f'{base}/sitemap-{page}.xml')}</loc></sitemap>")
    return "\n".join([*lines, "</sitemapindex>", ""])


def _w3c(value: datetime) -> str:
    """W3C Datetime, to the second, in UTC."""
    return format_instant(value.replace(microsecond=0))


def _xml(text: str) -> Response:
    return Response(text, media_type="application/xml")
