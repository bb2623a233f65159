"""The HTML pages of the hub (portal, screens, admin pages): templates and languages.

Pages are Jinja2 templates of the package (``cityhub/templates``), escaped by default. Every
text a page shows comes from the message catalogues in ``cityhub/i18n`` — one JSON file per
area and language, ``<area>.<lang>.json`` — so a page is German first and English when asked
for. The language is chosen by ``?lang=``, then the ``lang`` cookie the language switch sets,
then the browser's ``Accept-Language``; German when nothing says otherwise.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from cityhub import __version__

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"


@cache
def messages(language: str) -> dict[str, str]:
    """Every message of ``language``: the catalogues of all areas merged (keys are unique)."""
    merged: dict[str, str] = {}
    for entry in resources.files("cityhub").joinpath("i18n").iterdir():
        area, _, rest = entry.name.partition(".")
        if rest != f"{language}.json":
            continue
        for key, text in json.loads(entry.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice ({area})")
            merged[key] = text
    return merged


def language_of(request: Request) -> str:
    """The page language: ``?lang=``, the ``lang`` cookie, ``Accept-Language``, else German."""
    for asked in (request.query_params.get("lang"), request.cookies.get("lang")):
        if asked in LANGUAGES:
            return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


class Translator:
    """``t("key", name=…)`` in templates: the message in the page language, formatted.

    A missing key falls back to German, then to the key itself, so a page never breaks over
    an untranslated text (a test checks that both catalogues have the same keys).
    """

    def __init__(self, language: str) -> None:
        self.language = language
        self._own = messages(language)
        self._german = messages(DEFAULT_LANGUAGE)

    def __call__(self, key: str, **values: Any) -> str:
        text = self._own.get(key) or self._german.get(key) or key
        return text.format(**values) if values else text


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cityhub", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


#: What a page may load and run: scripts and styles of the hub only (no inline script can
#: run, so injected markup cannot act); images also from the configured tile servers.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``template`` rendered for ``request`` in its language.

    Every template sees ``t`` (the translator), ``lang``, ``root`` (the path prefix of the hub,
    so links work behind a proxy), ``version``, ``path`` and ``query`` (to link the same page in
    the other language). Every page carries ``CONTENT_SECURITY_POLICY``.
    """
    language = language_of(request)
    page = (
        environment()
        .get_template(template)
        .render(
            t=Translator(language),
            lang=language,
            languages=LANGUAGES,
            root=request.scope.get("root_path", "").rstrip("/"),
            version=__version__,
            path=request.url.path,
            query=request.url.query,
            language_query=language_query(request),
            **context,
        )
    )
    response = HTMLResponse(page, status_code=status_code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie("lang", language, max_age=365 * 24 * 3600, samesite="lax")
    return response


def language_query(request: Request) -> dict[str, str]:
    """Per language, the page's query string with only ``lang`` replaced: switching the
    language keeps e.g. ``?range=week`` or the sign-in's ``?next=``."""
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return {other: urlencode([*kept, ("lang", other)]) for other in LANGUAGES}


def client_messages(language: str, prefix: str) -> dict[str, str]:
    """The messages whose key starts with ``prefix``, for a page's script (embedded as JSON)."""
    german = messages(DEFAULT_LANGUAGE)
    own = messages(language)
    return {key: own.get(key) or text for key, text in german.items() if key.startswith(prefix)}
