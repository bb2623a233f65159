"""Information screens in a real headless Chromium: the demo screen shows its tiles, a new
Observation reaches it within seconds, it keeps its values through an outage of the hub and
recovers, and a crisis message takes it over."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from tests.browser.conftest import axe_violations

import cityhub

SCREEN = "/screens/rathaus"


def _uv_stream(live_hub) -> int:
    with live_hub.http() as http:
        screen = http.get("/api/screens/rathaus").json()
        admin = http.get("/api/admin/screens/rathaus", headers=live_hub.admin).json()
    assert screen["screen"]["title"]
    return next(t["datastream"] for t in admin["tiles"] if t["type"] == "uv")


def _observe(live_hub, datastream: int, result: float) -> None:
    with live_hub.http() as http:
        response = http.post(
            f"/v1.1/Datastreams({datastream})/Observations",
            json={"phenomenonTime": datetime.now(UTC).isoformat(), "result": result},
            headers=live_hub.admin,
        )
    assert response.status_code == 201, response.text


def _open(page, live_hub):
    page.goto(live_hub.url + SCREEN)
    page.wait_for_selector(".tile-uv .big", timeout=15000)


def test_the_demo_screen_shows_every_tile(live_hub, page, page_log, shoot):
    _open(page, live_hub)
    types = page.eval_on_selector_all(".tile", "nodes => nodes.map(n => n.dataset.type)")
    assert {"weather", "uv", "water", "air", "map", "qr", "ticker"} <= set(types)
    assert page.locator(".tile-uv .band").inner_text().strip() != ""
    assert page.locator(".tile-qr svg").count() == 1
    assert page.locator(".tile-map path, .tile-map .leaflet-interactive").count() > 0
    assert page.locator(".tile .as-of").count() >= 4
    shoot(page, "landscape")
    violations = axe_violations(page)
    assert violations == [], violations
    with live_hub.http() as http:
        screen = http.get("/api/admin/screens/rathaus", headers=live_hub.admin).json()
    assert screen["last_seen"] is not None  # the page's heartbeat
    assert screen["version"] == cityhub.__version__
    assert screen["silent"] is False
    page_log.assert_clean()


def test_a_new_observation_shows_within_seconds(live_hub, page, page_log, shoot):
    stream = _uv_stream(live_hub)
    _open(page, live_hub)
    page.wait_for_function("() => document.body.classList.contains('is-offline') === false")
    time.sleep(1.5)  # the live channel is open
    _observe(live_hub, stream, 11.0)
    started = time.monotonic()
    page.wait_for_function(
        "() => document.querySelector('.tile-uv .big').textContent.startsWith('11')",
        timeout=10000,
    )
    took = time.monotonic() - started
    assert took < 5, f"the screen showed the new value after {took:.1f} s"
    assert "Extrem" in page.locator(".tile-uv").inner_text()
    shoot(page, "uv-extreme")
    page_log.assert_clean()


def test_the_screen_keeps_its_values_through_an_outage(live_hub, page, shoot):
    stream = _uv_stream(live_hub)
    _open(page, live_hub)
    before = page.locator(".tile-uv .big").inner_text()
    live_hub.stop()
    try:
        page.wait_for_selector("#offline:not([hidden])", timeout=20000)
        offline = page.locator("#offline").inner_text()
        assert "Keine Verbindung" in offline
        assert page.locator(".tile-uv .big").inner_text() == before
        shoot(page, "offline")
        page.reload()  # the service worker still has the page; the values come from storage
        page.wait_for_selector(".tile-uv .big", timeout=15000)
        assert page.locator(".tile-uv .big").inner_text() == before
        page.wait_for_selector("#offline:not([hidden])", timeout=20000)
        shoot(page, "offline-reloaded")
    finally:
        live_hub.start()
    page.wait_for_selector("#offline", state="hidden", timeout=30000)
    _observe(live_hub, stream, 4.0)
    page.wait_for_function(
        "() => document.querySelector('.tile-uv .big').firstChild.textContent.trim() === '4'",
        timeout=15000,
    )
    shoot(page, "recovered")


def _push(live_hub, http, text: str, severity: str):
    response = http.post(
        "/api/admin/crisis", json={"text": text, "severity": severity}, headers=live_hub.admin
    )
    assert response.status_code == 201, response.text
    return response


def test_a_crisis_message_takes_the_screen_over_until_withdrawn(live_hub, page, page_log, shoot):
    _open(page, live_hub)
    with live_hub.http() as http:
        warning = _push(live_hub, http, "Glatteis auf Gehwegen", "warning")
        page.wait_for_selector(".banner-warning", timeout=10000)
        assert "Glatteis" in page.locator("#banners").inner_text()
        shoot(page, "warning")
        critical = _push(live_hub, http, "Hochwasser: Wupperufer räumen", "critical")
        page.wait_for_selector("#takeover:not([hidden])", timeout=10000)
        assert "Hochwasser" in page.locator("#takeover").inner_text()
        shoot(page, "critical")
        violations = axe_violations(page)
        assert violations == [], violations
        for message in (critical, warning):
            assert (
                http.delete(
                    f"/api/admin/crisis/{message.json()['id']}", headers=live_hub.admin
                ).status_code
                == 204
            )
    page.wait_for_selector("#takeover", state="hidden", timeout=10000)
    page.wait_for_selector(".banner-warning", state="detached", timeout=10000)
    page_log.assert_clean()


@pytest.mark.parametrize("lang", ["en"])
def test_a_portrait_screen_in_english(live_hub, browser, lang, shoot):
    with live_hub.http() as http:
        layout = http.get("/api/admin/screens/rathaus", headers=live_hub.admin).json()
        layout = {k: layout[k] for k in ("title", "group", "tiles")} | {"orientation": "portrait"}
        assert http.put("/api/admin/screens/hochkant", json=layout, headers=live_hub.admin)
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    page = context.new_page()
    try:
        page.goto(f"{live_hub.url}/screens/hochkant?lang={lang}")
        page.wait_for_selector(".tile-uv .big", timeout=15000)
        assert page.locator(".tile-uv h3").text_content() == "UV index"
        shoot(page, "portrait-en")
        assert axe_violations(page) == []
    finally:
        context.close()


def test_texts_of_a_layout_and_a_crisis_message_are_shown_as_text(live_hub, page, shoot):
    injected = '<b id="injected">fett</b><img src="x" onerror="document.title=\'owned\'">'
    with live_hub.http() as http:
        demo = http.get("/api/admin/screens/rathaus", headers=live_hub.admin).json()
        collections = next(t["collections"] for t in demo["tiles"] if t["type"] == "map")
        tiles = [
            {
                "type": "map",
                "collections": collections,
                "tile_url": "/static/no-tiles/{z}/{x}/{y}.png",
                "attribution": injected,
                "title": injected,
            },
            {"type": "ticker", "items": [injected]},
            {"type": "qr", "url": "/", "label": injected},
        ]
        layout = {"title": injected, "tiles": tiles}
        put = http.put("/api/admin/screens/markup", json=layout, headers=live_hub.admin)
        assert put.status_code == 201, put.text
        message = {"text": injected, "severity": "warning", "group": "nur-markup"}
        assert http.post("/api/admin/crisis", json=message, headers=live_hub.admin).is_success
        assert http.put(
            "/api/admin/screens/markup",
            json=layout | {"group": "nur-markup"},
            headers=live_hub.admin,
        ).is_success
    page.goto(live_hub.url + "/screens/markup")
    page.wait_for_selector(".tile-map .leaflet-control-attribution", timeout=15000)
    page.wait_for_selector(".banner-warning", timeout=10000)
    assert page.locator("#injected").count() == 0
    assert page.title() != "owned"
    assert '<b id="injected">' in page.locator(".leaflet-control-attribution").inner_text()
    assert '<b id="injected">' in page.locator("#banners").inner_text()
    assert '<b id="injected">' in page.locator("#screen-title").inner_text()
    shoot(page, "markup-as-text")
