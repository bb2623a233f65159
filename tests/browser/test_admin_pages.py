"""The admin pages in a real headless Chromium against a real hub: signing in, each page
listing what the API has, actions through the pages seen through the API, the keyboard
reaching every control, axe-core finding no serious violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from .admin_helpers import (
    TOKEN_KEY,
    allow_test_scripts,
    assert_keyboard_reaches_every_control,
    open_signed_in,
    sign_in,
)
from .conftest import ADMIN_TOKEN, axe_violations

PAGES = [
    ("/admin", "#overview-list li"),
    ("/admin/datasets", "#datasets-list table"),
    ("/admin/datasets?collections=solingen-orte", "#collections-list table"),
    ("/admin/tokens", "#tokens-list table, #tokens-list .empty"),
    ("/admin/connectors", "#connectors-list table, #connectors-list .empty"),
    ("/admin/lorawan", "#letters-list table, #letters-list .empty"),
]


def _failed_request_logged(message: str) -> bool:
    return message.startswith("console: Failed to load resource")


def test_sign_in_refuses_a_wrong_token_and_takes_the_right_one(live_hub, page, page_log, shoot):
    page.goto(live_hub.url + "/admin")
    assert page.evaluate("document.activeElement.id") == "token"
    page.click("button[type=submit]")
    assert "Bitte ein Zugangstoken eingeben" in page.inner_text("#sign-in-error")

    page.fill("#token", "not-a-token")
    page.click("button[type=submit]")
    page.wait_for_selector("#sign-in-error:has-text('unbekannt')")
    assert page.get_attribute("#token", "aria-invalid") == "true"
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    shoot(page, "wrong-token")

    page.fill("#token", ADMIN_TOKEN)
    page.press("#token", "Enter")
    page.wait_for_selector("#overview-list li")
    overview = page.inner_text("#overview-list")
    with live_hub.http() as http:
        datasets = http.get("/api/admin/datasets", headers=live_hub.admin).json()
    assert f"Datensätze: {len(datasets)}" in overview
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == ADMIN_TOKEN
    assert ADMIN_TOKEN not in page.url
    assert page.context.cookies() == [] or all(
        ADMIN_TOKEN not in c["value"] for c in page.context.cookies()
    )
    shoot(page, "overview")
    # The one request that failed was the wrong token's, as it should.
    assert [e for e in page_log.errors if not _failed_request_logged(e)] == []


def test_the_sign_in_page_is_accessible_with_its_error_shown(live_hub, page, shoot):
    allow_test_scripts(page, live_hub)
    page.goto(live_hub.url + "/admin?lang=en")
    page.press("#token", "Enter")
    page.wait_for_selector("#sign-in-error:has-text('Please enter a token')")
    assert page.get_attribute("#token", "aria-describedby") == "token-hint sign-in-error"
    assert page.is_hidden("#sign-out")
    shoot(page, "sign-in-en")
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)


def test_a_token_of_another_role_is_not_let_in(live_hub, page):
    with live_hub.http() as http:
        created = http.post(
            "/api/admin/tokens", json={"role": "reader", "name": "leser"}, headers=live_hub.admin
        )
    page.goto(live_hub.url + "/admin")
    page.fill("#token", created.json()["token"])
    page.click("button[type=submit]")
    page.wait_for_selector("#sign-in-error:has-text('admin')")
    assert page.is_hidden("#overview")


def test_sign_out_forgets_the_token_and_pages_then_ask_to_sign_in(live_hub, page, page_log):
    sign_in(page, live_hub)
    page.goto(live_hub.url + "/admin/tokens")
    page.wait_for_selector("#tokens-list table")
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None

    page.goto(live_hub.url + "/admin/connectors")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.url.endswith("/admin?next=%2Fadmin%2Fconnectors")
    assert "Bitte zuerst anmelden" in page.inner_text("#admin-status")
    page.fill("#token", ADMIN_TOKEN)
    page.press("#token", "Enter")
    page.wait_for_url("**/admin/connectors")
    page_log.assert_clean()


def test_a_revoked_token_returns_to_sign_in_with_a_message(live_hub, page, page_log):
    with live_hub.http() as http:
        created = http.post(
            "/api/admin/tokens", json={"role": "admin", "name": "kurzlebig"}, headers=live_hub.admin
        ).json()
        sign_in(page, live_hub, created["token"])
        # Leave the overview before the token goes: its late API calls would meet the 401
        # first and send the tab to sign-in while the next page is still loading. The token
        # stays in the tab's session storage.
        page.goto("about:blank")
        listed = http.get("/api/admin/tokens", headers=live_hub.admin).json()
        (entry,) = [t for t in listed if t["name"] == "kurzlebig"]
        assert http.delete(f"/api/admin/tokens/{entry['id']}", headers=live_hub.admin).status_code
    page_log.errors.clear()
    # The page's own script leaves for sign-in as soon as the API says 401, maybe before the
    # page has loaded: wait only for its response, then for the address the app ends on.
    page.goto(live_hub.url + "/admin/datasets", wait_until="commit")
    page.wait_for_url(live_hub.url + "/admin?next=%2Fadmin%2Fdatasets")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert "gilt nicht mehr" in page.inner_text("#admin-status")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert page_log.errors
    assert all("401" in e for e in page_log.errors)


@pytest.mark.parametrize(("path", "ready"), PAGES, ids=[p.rsplit("/", 1)[-1] for p, _ in PAGES])
def test_each_page_loads_cleanly_is_accessible_and_keyboard_complete(
    live_hub, page, page_log, shoot, path, ready
):
    open_signed_in(page, live_hub, path, ready)
    shoot(page, path.strip("/").replace("/", "-"))
    page_log.assert_clean()
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)


def test_every_page_works_under_its_content_security_policy(live_hub, page, page_log):
    """The pages run only the hub's own scripts: an injected inline script is refused."""
    page.goto(live_hub.url + "/admin")
    page.evaluate(f"sessionStorage.setItem('{TOKEN_KEY}', '{ADMIN_TOKEN}')")
    for path, ready in PAGES:
        answer = page.goto(live_hub.url + path)
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        page.wait_for_selector(ready)
        with pytest.raises(PlaywrightError):
            page.add_script_tag(content="window.injected = true")
        assert page.evaluate("window.injected") is None
    refused = [e for e in page_log.errors if "Content Security Policy" in e]
    assert len(refused) == len(PAGES)
    assert refused == page_log.errors


def test_the_english_pages_say_the_same_in_english(live_hub, page, page_log):
    open_signed_in(page, live_hub, "/admin/datasets?lang=en", "#datasets-list table")
    assert page.inner_text("h1") == "Datasets"
    assert "Delete" in page.inner_text("#datasets-list")
    assert page.get_attribute("html", "lang") == "en"
    assert axe_violations(page) == []
    page_log.assert_clean()


def test_datasets_are_listed_created_edited_and_refused_with_the_reason(live_hub, page, page_log):
    open_signed_in(page, live_hub, "/admin/datasets", "#datasets-list table")
    listed = page.inner_text("#datasets-list")
    assert "Orte in Solingen (Demo)" in listed
    assert "Sensoren in Solingen (Demo)" in listed

    page.fill("#ds-slug", "baustellen")
    page.fill("#ds-title", "Baustellen")
    page.click("#dataset-submit")
    page.wait_for_selector("#dataset-form-error:has-text('licence')")
    assert page.get_attribute("#ds-licence", "aria-invalid") == "true"

    page.select_option("#ds-licence", "dl-by-de/2.0")
    page.select_option("#ds-organization", "stadt-solingen-demo")
    page.fill("#ds-keywords", "Verkehr, Bauen")
    page.select_option("#ds-visibility", "restricted")
    page.click("#dataset-submit")
    page.wait_for_selector("#datasets-list td:has-text('Baustellen')")
    assert "angelegt" in page.inner_text("#admin-status")
    with live_hub.http() as http:
        created = http.get("/api/admin/datasets/baustellen", headers=live_hub.admin).json()
    assert created["keywords"] == ["Verkehr", "Bauen"]
    assert created["visibility"] == "restricted"
    assert created["organization"] == "stadt-solingen-demo"

    page.click("button[aria-label='Datensatz baustellen bearbeiten']")
    assert page.evaluate("document.activeElement.id") == "dataset-form-title"
    assert page.input_value("#ds-title") == "Baustellen"
    assert page.input_value("#ds-licence") == "dl-by-de/2.0"
    page.fill("#ds-title", "Baustellen im Stadtgebiet")
    page.select_option("#ds-visibility", "public")
    page.click("#dataset-submit")
    page.wait_for_selector("#datasets-list td:has-text('Baustellen im Stadtgebiet')")
    with live_hub.http() as http:
        changed = http.get("/api/admin/datasets/baustellen", headers=live_hub.admin).json()
    assert (changed["title"], changed["visibility"]) == ("Baustellen im Stadtgebiet", "public")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Datensatz baustellen löschen']")
    page.wait_for_selector("#admin-status:has-text('gelöscht')")
    with live_hub.http() as http:
        gone = http.get("/api/admin/datasets/baustellen", headers=live_hub.admin)
    assert gone.status_code == 404
    assert [e for e in page_log.errors if not _failed_request_logged(e)] == []
    assert len(page_log.errors) == 1  # the refused create (400)


def test_an_organization_and_a_file_import_through_the_page(live_hub, page, page_log, tmp_path):
    open_signed_in(page, live_hub, "/admin/datasets", "#organizations-list table")
    page.fill("#org-slug", "stadtwerke")
    page.fill("#org-name", "Stadtwerke Solingen")
    page.click("#organization-form button[type=submit]")
    page.wait_for_selector("#organizations-list td:has-text('Stadtwerke Solingen')")

    upload = tmp_path / "baenke.csv"
    upload.write_text("id;name;lon;lat\n1;Bank am Markt;7.08;51.17\n2;Bank im Park;7.09;51.16\n")
    page.select_option("#im-dataset", "solingen-orte")
    page.fill("#im-collection", "baenke")
    page.set_input_files("#im-file", str(upload))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-result p")
    with live_hub.http() as http:
        items = http.get("/features/collections/baenke/items").json()
    assert sorted(f["properties"]["name"] for f in items["features"]) == [
        "Bank am Markt",
        "Bank im Park",
    ]
    page_log.assert_clean()


def test_a_token_is_created_shown_once_and_revoked_through_the_page(live_hub, page, page_log):
    open_signed_in(page, live_hub, "/admin/tokens", "#tokens-list")
    page.fill("#tk-name", "Pegel-Importer")
    page.select_option("#tk-role", "publisher")
    page.select_option("#tk-dataset", "solingen-sensoren")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#new-token:not([hidden])")
    value = page.input_value("#new-token-value")
    assert len(value) > 30
    assert page.evaluate("document.activeElement.id") == "new-token"
    page.wait_for_selector("#tokens-list td:has-text('Pegel-Importer')")

    with live_hub.http() as http:
        tokens = http.get("/api/admin/tokens", headers=live_hub.admin).json()
        (entry,) = [t for t in tokens if t["name"] == "Pegel-Importer"]
        assert entry["role"] == "publisher"
        assert entry["revoked_at"] is None
        # The token works as created: it may write.
        thing = {
            "name": "Testpegel",
            "description": "Pegel",
            "properties": {"dataset": "solingen-sensoren"},
        }
        headers = {"Authorization": f"Bearer {value}"}
        assert http.post("/v1.1/Things", json=thing, headers=headers).status_code == 201

    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"button[aria-label='Token Pegel-Importer (ID {entry['id']}) widerrufen']")
    page.wait_for_selector("#admin-status:has-text('widerrufen')")
    assert "widerrufen am" in page.inner_text("#tokens-list")
    with live_hub.http() as http:
        tokens = http.get("/api/admin/tokens", headers=live_hub.admin).json()
        (entry,) = [t for t in tokens if t["name"] == "Pegel-Importer"]
        assert entry["revoked_at"] is not None
        assert http.post("/v1.1/Things", json=thing, headers=headers).status_code == 401
    page_log.assert_clean()


def test_dismissing_the_question_revokes_nothing(live_hub, page, page_log):
    with live_hub.http() as http:
        http.post(
            "/api/admin/tokens", json={"role": "reader", "name": "bleibt"}, headers=live_hub.admin
        )
    open_signed_in(page, live_hub, "/admin/tokens", "#tokens-list td:has-text('bleibt')")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button[aria-label^='Token bleibt']")
    with live_hub.http() as http:
        tokens = http.get("/api/admin/tokens", headers=live_hub.admin).json()
    assert [t["revoked_at"] for t in tokens if t["name"] == "bleibt"] == [None]
    page_log.assert_clean()
