"""The routes of the admin pages: one GET per page, each a shell its script fills."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from cityhub.datasets.vocabularies import LICENCES
from cityhub.pages import client_messages, language_of, render


@dataclass(frozen=True)
class AdminPage:
    """One page: its path below ``/admin``, its template and script, its navigation label."""

    slug: str
    script: str

    @property
    def path(self) -> str:
        return "/admin" if not self.slug else f"/admin/{self.slug}"

    @property
    def template(self) -> str:
        return f"admin/{self.slug or 'home'}.html"


#: The pages hold an admin token: only the hub's own scripts run in them, they talk only to
#: the hub, and no other site may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

PAGES: tuple[AdminPage, ...] = (
    AdminPage("", "home.js"),
    AdminPage("datasets", "datasets.js"),
    AdminPage("tokens", "tokens.js"),
    AdminPage("connectors", "connectors.js"),
    AdminPage("lorawan", "lorawan.js"),
    AdminPage("screens", "screens.js"),
    AdminPage("crisis", "crisis.js"),
)


def _page_endpoint(page: AdminPage):  # type: ignore[no-untyped-def]
    async def show(request: Request) -> HTMLResponse:
        response = render(
            request,
            page.template,
            page=page,
            pages=PAGES,
            messages=client_messages(language_of(request), "admin."),
            licences={key: title for key, (_, title) in LICENCES.items()},
        )
        # The shells are the same for everyone; what they show comes from the API.
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    return show


async def _trailing_slash(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/admin", status_code=308)


def admin_routes() -> list[Route]:
    """The admin pages, to be mounted at the hub's root (``/admin``, ``/admin/datasets`` …)."""
    routes = [Route(page.path, _page_endpoint(page), methods=["GET"]) for page in PAGES]
    routes.append(Route("/admin/", _trailing_slash, methods=["GET"]))
    return routes
