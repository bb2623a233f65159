"""The admin pages over plain HTTP: shells in German and English that hold no data and no
authority, and every text their scripts ask for present in both catalogues."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import cityhub
from cityhub.adminui import PAGES
from cityhub.pages import messages

PACKAGE = Path(cityhub.__file__).parent
SCRIPTS = sorted((PACKAGE / "static" / "admin").glob("*.js"))
TEMPLATES = sorted((PACKAGE / "templates" / "admin").glob("*.html"))


def _config(page: str) -> dict:
    pattern = r'<script type="application/json" id="admin-config">(.*?)</script>'
    found = re.search(pattern, page, re.S)
    assert found, "the page hands its texts to its script"
    return json.loads(found.group(1))


@pytest.mark.parametrize("path", [page.path for page in PAGES])
def test_every_page_is_a_german_shell_without_data(sqlite_hub, path):
    answer = sqlite_hub.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["x-frame-options"] == "DENY"
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    page = answer.text
    assert '<html lang="de">' in page
    assert 'href="#content"' in page
    assert '<main id="content"' in page
    assert 'aria-current="page"' in page
    config = _config(page)
    assert config["lang"] == "de"
    assert config["messages"]["admin.sign_out"] == "Abmelden"
    script = next(p.script for p in PAGES if p.path == path)
    assert f'src="/static/admin/{script}"' in page
    assert sqlite_hub.get(f"/static/admin/{script}").status_code == 200


def test_a_page_is_english_when_asked_and_remembers_it(sqlite_hub):
    answer = sqlite_hub.get("/admin/tokens?lang=en")
    assert '<html lang="en">' in answer.text
    assert _config(answer.text)["messages"]["admin.tokens.revoke"] == "Revoke"
    assert "lang=en" in answer.headers["set-cookie"]


def test_the_shells_hold_no_data_and_need_no_token_while_the_api_does(sqlite_hub):
    created = sqlite_hub.post(
        "/api/admin/datasets",
        {"slug": "geheim", "title": "Geheime Messwerte", "licence": "cc-zero"},
    )
    assert created.status_code == 201, created.text
    page = sqlite_hub.get("/admin/datasets").text
    assert "Geheime Messwerte" not in page
    assert sqlite_hub.get("/api/admin/datasets").status_code == 401


def test_a_trailing_slash_leads_to_the_sign_in_page(sqlite_hub):
    answer = sqlite_hub.get("/admin/", follow_redirects=False)
    assert answer.status_code == 308
    assert answer.headers["location"] == "/admin"


def _asked_for() -> set[str]:
    keys = set()
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        keys |= {f"admin.{key}" for key in re.findall(r'\bt\("([a-z_.]+)"', text)}
    keys |= {f"admin.nav.{page.slug or 'home'}" for page in PAGES}
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(["'](admin\.[a-z_.]*[a-z_])["']""", text))
    return keys


def test_every_text_a_page_asks_for_is_in_both_catalogues():
    asked = _asked_for()
    assert len(asked) > 200
    for language in ("de", "en"):
        missing = sorted(asked - messages(language).keys())
        assert missing == [], f"{language}: {missing}"


@pytest.mark.parametrize(
    "prefix",
    [
        "admin.connectors.origin_",
        "admin.connectors.status_",
        "admin.connectors.trigger_",
        "admin.tokens.role_",
        "admin.crisis.severity_",
    ],
)
def test_the_texts_scripts_compose_from_api_values_exist(prefix):
    values = {
        "admin.connectors.origin_": ("file", "api"),
        "admin.connectors.status_": ("ok", "failed", "running"),
        "admin.connectors.trigger_": ("manual", "schedule"),
        "admin.tokens.role_": ("admin", "publisher", "reader"),
        "admin.crisis.severity_": ("info", "warning", "critical"),
    }[prefix]
    for value in values:
        assert f"{prefix}{value}" in messages("en")


def test_no_script_keeps_the_token_anywhere_but_the_session_storage():
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        assert "document.cookie" not in text, script.name
        assert "localStorage" not in text, script.name


def test_every_tile_type_and_option_has_a_name_in_both_languages():
    from cityhub.screens.tiles import tile_types

    for language in ("de", "en"):
        catalogue = messages(language)
        for kind in tile_types():
            assert f"admin.tile.{kind['type']}" in catalogue, (language, kind["type"])
            for option in kind["options"]:
                assert f"admin.option.{option['name']}" in catalogue, (language, option["name"])
