"""The admin pages at ``/admin``: HTML shells for the city's data team.

The pages hold no authority of their own. The server renders a static shell (texts in the
page language, the vocabularies a form offers); the page's script calls the admin API under
``/api/admin`` with the token the user signed in with, so every action passes the API's own
checks. The token lives in the browser tab's ``sessionStorage`` — never a cookie, never a URL.
"""

from __future__ import annotations

from cityhub.adminui.routes import PAGES, admin_routes

__all__ = ["PAGES", "admin_routes"]
