"""What the admin page tests share: signing in, walking a page with the keyboard, a local
file server for a connector to fetch from."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .conftest import ADMIN_TOKEN, LiveHub

TOKEN_KEY = "cityhub.admin.token"


def allow_test_scripts(page: Any, hub: LiveHub) -> None:
    """Serve the admin pages to ``page`` without their Content-Security-Policy, so the tests
    can inject axe-core and evaluate expressions (``test_admin_pages_csp`` checks the pages
    under the policy)."""

    def strip(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k != "content-security-policy"}
        route.fulfill(response=response, headers=headers)

    page.route(f"{hub.url}/admin**", strip)


def sign_in(page: Any, hub: LiveHub, token: str = ADMIN_TOKEN) -> None:
    """Sign in through the form, as a person would."""
    allow_test_scripts(page, hub)
    page.goto(hub.url + "/admin")
    page.fill("#token", token)
    page.press("#token", "Enter")
    page.wait_for_selector("#overview:not([hidden])")


def open_signed_in(page: Any, hub: LiveHub, path: str, ready: str) -> None:
    """Open ``path`` with the admin token in this tab's session, waiting for ``ready``."""
    allow_test_scripts(page, hub)
    page.goto(hub.url + "/admin")
    page.evaluate(f"sessionStorage.setItem('{TOKEN_KEY}', '{ADMIN_TOKEN}')")
    page.goto(hub.url + path)
    page.wait_for_selector(ready)


# Every control a keyboard user must reach: visible, enabled, not taken out of the tab order.
_CONTROLS = """() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex="0"]';
  const controls = [...document.querySelectorAll(selector)].filter((node) =>
    !node.disabled && node.getAttribute('tabindex') !== '-1' && node.type !== 'hidden'
    && node.checkVisibility({visibilityProperty: true})
    && !node.closest('details:not([open]) > :not(summary)'));
  controls.forEach((node, index) => node.setAttribute('data-control', String(index)));
  return controls.map((node) => node.outerHTML.slice(0, 120));
}"""


def tab_through(page: Any) -> tuple[list[str], list[int]]:
    """Press Tab from the top of the page until focus leaves it; the controls of the page
    and the order in which the keyboard reached them."""
    controls = page.evaluate(_CONTROLS)
    # Chromium tabs on from the last focused element: start from the first control.
    page.focus('[data-control="0"]')
    reached: list[int] = [0]
    for _ in range(len(controls) + 10):
        page.keyboard.press("Tab")
        marker = page.evaluate("document.activeElement?.getAttribute('data-control')")
        if marker is None:
            if reached:
                break
            continue
        if reached and int(marker) == reached[0]:
            break
        reached.append(int(marker))
    return controls, reached


def assert_keyboard_reaches_every_control(page: Any) -> None:
    controls, reached = tab_through(page)
    missed = [controls[i] for i in range(len(controls)) if i not in reached]
    assert missed == [], f"not reached by Tab: {missed}"
    assert controls[0].startswith('<a class="skip-link"'), "the skip link comes first"
    assert reached == sorted(reached), "focus follows the order of the page"


@contextmanager
def file_server(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free port (a city's open-data server, locally)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
