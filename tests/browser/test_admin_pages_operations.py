"""The connectors and LoRaWAN admin pages in a real Chromium: a connector created, run now,
failing with its error shown, edited; dead letters shown, retried and dropped."""

from __future__ import annotations

from .admin_helpers import assert_keyboard_reaches_every_control, file_server, open_signed_in
from .conftest import axe_violations

SECRET_ENV = "CITYHUB_TEST_ADMIN_PAGES_SECRET"
CSV = "id;name;lon;lat\nb1;Bank am Markt;7.08;51.17\nb2;Bank im Park;7.09;51.16\n"


def _create_connector(page, name: str, configuration: str) -> None:
    page.fill("#cn-name", name)
    page.fill("#cn-config", configuration)
    page.click("#connector-submit")
    page.wait_for_selector(f"#connectors-list code:text-is('{name}')")


def test_a_connector_is_created_run_now_and_its_runs_shown(live_hub, page, page_log, tmp_path):
    (tmp_path / "baenke.csv").write_text(CSV, encoding="utf-8")
    with file_server(tmp_path) as base:
        open_signed_in(page, live_hub, "/admin/connectors", "#connectors-list .empty")
        configuration = (
            f'{{"type": "file", "url": "{base}/baenke.csv", "dataset": "solingen-orte",'
            ' "collection": "sitzbaenke"}'
        )
        _create_connector(page, "baenke", configuration)
        assert "noch nie gelaufen" in page.inner_text("#connectors-list")

        run = "button[aria-label='Konnektor baenke jetzt ausführen']"
        page.focus(run)
        page.keyboard.press("Enter")
        page.wait_for_selector("#admin-status:has-text('erfolgreich gelaufen')")
        # The list was drawn again; the keyboard is still on the connector's button.
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
            "Konnektor baenke jetzt ausführen"
        )
        assert "erfolgreich" in page.inner_text("#connectors-list")
    with live_hub.http() as http:
        runs = http.get("/api/admin/connectors/baenke/runs", headers=live_hub.admin).json()
        items = http.get("/features/collections/sitzbaenke/items").json()
    assert [(r["trigger"], r["status"]) for r in runs] == [("manual", "ok")]
    assert sorted(f["properties"]["name"] for f in items["features"]) == [
        "Bank am Markt",
        "Bank im Park",
    ]

    page.click("button[aria-label='Läufe des Konnektors baenke zeigen']")
    page.wait_for_selector("#runs:not([hidden]) table")
    assert page.evaluate("document.activeElement.id") == "runs-title"
    assert "von Hand" in page.inner_text("#runs-list")
    page_log.assert_clean()


def test_a_failing_connector_shows_its_error_and_can_be_edited(live_hub, page, page_log, tmp_path):
    with file_server(tmp_path) as base:
        open_signed_in(page, live_hub, "/admin/connectors", "#connectors-list")
        configuration = f'{{"type": "file", "url": "{base}/fehlt.csv", "dataset": "solingen-orte"}}'
        _create_connector(page, "fehlt", configuration)
        page.click("button[aria-label='Konnektor fehlt jetzt ausführen']")
        page.wait_for_selector("#admin-status:has-text('fehlgeschlagen')")
    assert page.get_attribute("#admin-status", "data-kind") == "error"
    row = page.locator("#connectors-list tr", has_text="fehlt")
    assert "fehlgeschlagen" in row.inner_text()
    assert "404" in row.inner_text()

    page.click("button[aria-label='Konnektor fehlt bearbeiten']")
    page.wait_for_function("document.activeElement.id === 'connector-form-title'")
    assert '"url"' in page.input_value("#cn-config")
    page.fill("#cn-config", '{"type": "file", "url": "https://example.org/x.csv", "every": "soon"}')
    page.click("#connector-submit")
    page.wait_for_selector("#connector-form-error:has-text('every')")
    assert page.get_attribute("#cn-config", "aria-invalid") is None
    page.fill("#cn-config", '{"type": "file", "url": "https://example.org/x.csv", "every": "1h"}')
    page.click("#connector-submit")
    page.wait_for_selector("#admin-status:has-text('gespeichert')")
    with live_hub.http() as http:
        shown = http.get("/api/admin/connectors/fehlt", headers=live_hub.admin).json()
    assert shown["schedule"] == "every 1h"
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Konnektor fehlt löschen']")
    page.wait_for_selector("#admin-status:has-text('gelöscht')")
    with live_hub.http() as http:
        assert http.get("/api/admin/connectors/fehlt", headers=live_hub.admin).status_code == 404
    assert len(page_log.errors) == 1  # the refused change (400)


def _dead_letters(live_hub, monkeypatch) -> list[int]:
    monkeypatch.setenv(SECRET_ENV, "geheim")
    with live_hub.http() as http:
        created = http.post(
            "/api/admin/lorawan/integrations/ttn-test",
            json={"network": "ttn", "secret_env": SECRET_ENV},
            headers=live_hub.admin,
        )
        assert created.status_code == 201, created.text
        for body in (b'{"kaputt": ', b"nicht einmal JSON"):
            answer = http.post(
                "/ingest/lorawan/ttn-test", content=body, headers={"X-Cityhub-Secret": "geheim"}
            )
            assert answer.status_code == 400
        letters = http.get("/api/admin/lorawan/dead-letters", headers=live_hub.admin).json()
    return [letter["id"] for letter in letters]


def test_dead_letters_are_shown_retried_and_dropped(live_hub, page, page_log, shoot, monkeypatch):
    newest, oldest = _dead_letters(live_hub, monkeypatch)
    open_signed_in(page, live_hub, "/admin/lorawan", "#letters-list table")
    listed = page.inner_text("#letters-list")
    assert "malformed: not JSON" in listed
    assert "ttn-test" in page.inner_text("#integrations-list")
    page.focus("#letters-reload")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.activeElement.id === 'letters-reload' && !document.activeElement.disabled"
    )

    page.click(f"button[aria-label='Nachricht {oldest} mit Inhalt anzeigen']")
    page.wait_for_selector("#letter:not([hidden]) pre")
    assert page.inner_text("#letter pre") == '{"kaputt": '
    assert page.evaluate("document.activeElement.id") == "letter-title"
    shoot(page, "dead-letter")

    page.click(f"button[aria-label='Nachricht {oldest} erneut verarbeiten']")
    page.wait_for_selector("#admin-status:has-text('weiterhin unzustellbar')")
    with live_hub.http() as http:
        letter = http.get(f"/api/admin/lorawan/dead-letters/{oldest}", headers=live_hub.admin)
    assert letter.json()["attempts"] == 2

    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"button[aria-label='Nachricht {newest} verwerfen']")
    page.wait_for_selector("#admin-status:has-text('verworfen')")
    with live_hub.http() as http:
        gone = http.get(f"/api/admin/lorawan/dead-letters/{newest}", headers=live_hub.admin)
        left = http.get("/api/admin/lorawan/dead-letters", headers=live_hub.admin).json()
    assert gone.status_code == 404
    assert [letter["id"] for letter in left] == [oldest]
    assert f"Nachricht {newest} " not in page.inner_text("#letters-list")
    assert axe_violations(page) == []
    assert_keyboard_reaches_every_control(page)
    page_log.assert_clean()
