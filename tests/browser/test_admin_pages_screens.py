"""The screens and crisis admin pages in a real Chromium: silent screens said in words, the
layout editor (tiles from the tile types, added, reordered, removed, the JSON view, the API's
error at the tile it names), crisis messages pushed and withdrawn."""

from __future__ import annotations

from .admin_helpers import assert_keyboard_reaches_every_control, open_signed_in
from .conftest import axe_violations

DEMO = "Rathaus Solingen – Foyer"


def _screen(live_hub, slug: str, title: str, group: str, heartbeat: bool) -> None:
    body = {"title": title, "group": group, "orientation": "portrait", "tiles": []}
    with live_hub.http() as http:
        saved = http.put(f"/api/admin/screens/{slug}", json=body, headers=live_hub.admin)
        assert saved.status_code in (200, 201), saved.text
        if heartbeat:
            beat = http.post(f"/api/screens/{slug}/heartbeat", json={"version": "1"})
            assert beat.status_code == 200, beat.text


def _layout(live_hub, slug: str) -> dict:
    with live_hub.http() as http:
        answer = http.get(f"/api/admin/screens/{slug}", headers=live_hub.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_silent_screens_are_said_in_words_on_the_list_and_the_overview(live_hub, page, page_log):
    _screen(live_hub, "bibliothek", "Stadtbibliothek", "kultur", heartbeat=True)
    open_signed_in(page, live_hub, "/admin/screens", "#screens-list table")
    demo = page.locator("#screens-list tr", has_text=DEMO)
    alive = page.locator("#screens-list tr", has_text="Stadtbibliothek")
    assert "STUMM – nie gesehen" in demo.inner_text()
    assert "STUMM" not in alive.inner_text()
    assert "meldet sich" in alive.inner_text()
    assert "davon stumm: 1" in page.inner_text("#screens-list caption")

    page.goto(live_hub.url + "/admin")
    page.wait_for_selector("#silent-screens table, #silent-screens p")
    silent = page.inner_text("#silent-screens")
    assert DEMO in silent
    assert "Stadtbibliothek" not in silent
    page_log.assert_clean()


def test_a_layout_is_built_reordered_and_saved_through_the_editor(live_hub, page, page_log, shoot):
    open_signed_in(page, live_hub, "/admin/screens", "#screens-list table")
    page.click("#screen-new")
    assert page.evaluate("document.activeElement.id") == "editor-title"
    page.fill("#sc-slug", "buergerbuero")
    page.fill("#sc-title", "Bürgerbüro")
    page.fill("#sc-group", "innenstadt")
    page.select_option("#sc-orientation", "portrait")
    types = page.eval_on_selector_all("#tile-type option", "options => options.map(o => o.value)")
    assert {"departures", "qr", "ticker", "weather"} <= set(types)

    page.select_option("#tile-type", "qr")
    page.click("#tile-add")
    assert page.evaluate("document.activeElement.id") == "tile-0-url"
    page.fill("#tile-0-url", "/datasets")
    page.dispatch_event("#tile-0-url", "change")
    page.select_option("#tile-type", "ticker")
    page.click("#tile-add")
    assert page.locator("#tile-list > li").count() == 2
    page.fill("#tile-1-items", "Willkommen im Bürgerbüro, Heute bis 16 Uhr geöffnet")
    page.dispatch_event("#tile-1-items", "change")
    # The ticker moves up with the keyboard, and the focus moves with it.
    page.focus("#tile-1 [data-action=up]")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('li').id") == "tile-0"
    assert page.inner_text("#tile-0 legend") == "Kachel 1: Laufschrift"
    assert page.inner_text("label[for=tile-1-url]") == "Adresse (url, Pflicht)"
    assert "an Stelle 1" in page.inner_text("#admin-status")

    page.click("#json-view summary")
    layout_json = page.input_value("#sc-json")
    assert '"Willkommen im Bürgerbüro"' in layout_json
    assert layout_json.index('"ticker"') < layout_json.index('"qr"')
    shoot(page, "editor")
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)

    page.click("#screen-form button[type=submit]")
    page.wait_for_selector("#admin-status:has-text('gespeichert')")
    saved = _layout(live_hub, "buergerbuero")
    assert (saved["title"], saved["group"], saved["orientation"]) == (
        "Bürgerbüro",
        "innenstadt",
        "portrait",
    )
    assert [tile["type"] for tile in saved["tiles"]] == ["ticker", "qr"]
    assert saved["tiles"][0]["items"] == ["Willkommen im Bürgerbüro", "Heute bis 16 Uhr geöffnet"]
    assert saved["tiles"][1]["url"] == "/datasets"
    page.wait_for_selector("#screens-list td:has-text('Bürgerbüro')")
    page_log.assert_clean()


def test_the_apis_error_is_shown_at_the_tile_and_option_it_names(live_hub, page, page_log):
    _screen(live_hub, "sporthalle", "Sporthalle", "sport", heartbeat=False)
    open_signed_in(page, live_hub, "/admin/screens", "#screens-list table")
    page.click("button[aria-label='Layout von Sporthalle bearbeiten']")
    page.wait_for_selector("#editor:not([hidden])")
    page.select_option("#tile-type", "departures")
    page.click("#tile-add")
    page.fill("#tile-0-stop", "gibt-es-nicht")
    page.dispatch_event("#tile-0-stop", "change")
    page.click("#screen-form button[type=submit]")
    page.wait_for_selector("#screen-form-error:not(:empty)")
    message = page.inner_text("#screen-form-error")
    assert "tiles[0]" in message
    assert "tiles[0]" in page.inner_text("#tile-0-error")
    assert page.get_attribute("#tile-0-stop", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "tile-0-stop"
    assert _layout(live_hub, "sporthalle")["tiles"] == []

    # The JSON view takes a whole layout at once; a JSON mistake is said before any request.
    page.click("#json-view summary")
    page.fill("#sc-json", '{"title": "Sporthalle", "tiles": [')
    page.click("#json-apply")
    assert "Kein gültiges JSON" in page.inner_text("#screen-form-error")
    page.fill("#sc-json", '{"title": "Sporthalle", "group": "sport", "tiles": [{"type": "uv"}]}')
    page.click("#json-apply")
    assert page.locator("#tile-list > li").count() == 1
    assert page.get_attribute("#tile-0-datastream", "required") is not None
    page.fill("#tile-0-datastream", "18")
    page.dispatch_event("#tile-0-datastream", "change")
    page.click("#screen-form button[type=submit]")
    page.wait_for_selector("#admin-status:has-text('gespeichert')")
    assert [tile["type"] for tile in _layout(live_hub, "sporthalle")["tiles"]] == ["uv"]

    page.click("#tile-0 [data-action=remove]")
    assert page.locator("#tile-list > li").count() == 0
    assert page.evaluate("document.activeElement.id") == "tile-type"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Bildschirm Sporthalle löschen']")
    page.wait_for_selector("#admin-status:has-text('gelöscht')")
    with live_hub.http() as http:
        gone = http.get("/api/admin/screens/sporthalle", headers=live_hub.admin)
    assert gone.status_code == 404
    assert len(page_log.errors) == 1  # the refused layout (400)


def test_a_crisis_message_is_pushed_listed_and_withdrawn(live_hub, page, page_log, shoot):
    open_signed_in(page, live_hub, "/admin/crisis", "#crisis-list .empty, #crisis-list table")
    assert page.locator("#screen-groups option[value='innenstadt']").count() == 1
    page.fill("#cr-text", "Hochwasser: Unterführung Mühlenplatz gesperrt")
    page.select_option("#cr-severity", "critical")
    page.fill("#cr-group", "innenstadt")
    page.fill("#cr-expires", "2099-12-31T18:00")
    page.click("#crisis-form button[type=submit]")
    page.wait_for_selector("#crisis-list td:has-text('Hochwasser')")
    row = page.locator("#crisis-list tr", has_text="Hochwasser")
    assert "Gefahr" in row.inner_text()
    assert "aktiv" in row.inner_text()
    with live_hub.http() as http:
        (message,) = http.get("/api/admin/crisis", headers=live_hub.admin).json()
    assert (message["severity"], message["group"], message["active"]) == (
        "critical",
        "innenstadt",
        True,
    )
    assert message["expires"].startswith("2099-12-31")
    shoot(page, "crisis")
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)

    page.fill("#cr-text", "")
    page.click("#crisis-form button[type=submit]")
    page.wait_for_selector("#crisis-form-error:has-text('text')")
    assert page.get_attribute("#cr-text", "aria-invalid") == "true"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label^='Meldung „Hochwasser']")
    page.wait_for_selector("#admin-status:has-text('zurückgezogen')")
    assert "zurückgezogen" in page.locator("#crisis-list tr", has_text="Hochwasser").inner_text()
    with live_hub.http() as http:
        (message,) = http.get("/api/admin/crisis", headers=live_hub.admin).json()
    assert message["withdrawn"]
    assert not message["active"]
    assert len(page_log.errors) == 1  # the refused empty message (400)


def test_the_screens_page_is_clean_and_keyboard_complete(live_hub, page, page_log, shoot):
    open_signed_in(page, live_hub, "/admin/screens", "#screens-list table")
    page.click("button[aria-label='Layout von Rathaus Solingen – Foyer bearbeiten']")
    page.wait_for_selector("#tile-list > li")
    shoot(page, "demo-layout")
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)
    page_log.assert_clean()
