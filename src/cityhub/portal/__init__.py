"""The citizen portal at ``/``: a map of every public collection and the sensors, pages per
dataset, collection, feature, Thing and Datastream, search, and ``robots.txt`` and the sitemap
for search engines (docs/portal.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from cityhub.auth import Authenticator
from cityhub.portal.sitemap import Crawlers
from cityhub.portal.views import Portal
from cityhub.settings import Settings
from cityhub.store.database import Store


def portal_routes(store: Store, settings: Settings, auth: Authenticator) -> list[BaseRoute]:
    """The portal's routes; they go before the ``/api`` mount (``/api/search`` is one)."""
    return [*Portal(store, settings, auth).routes(), *Crawlers(store, settings).routes()]


def unknown_path_handler(
    store: Store, settings: Settings, auth: Authenticator
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The hub's answer to a path nothing serves (``Portal.unknown_path``)."""
    return Portal(store, settings, auth).unknown_path
