"""The front-end libraries are served from the package, with their licences, never a CDN."""

from __future__ import annotations

import json
from pathlib import Path

import cityhub

VENDOR = Path(cityhub.__file__).parent / "static" / "vendor"


def test_every_shipped_library_has_its_licence_and_manifest():
    libraries = sorted(p.name for p in VENDOR.iterdir() if p.is_dir())
    assert libraries == ["leaflet", "leaflet.markercluster", "swagger-ui", "uplot"]
    for library in libraries:
        manifest = json.loads((VENDOR / library / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["license"] in {"BSD-2-Clause", "MIT", "Apache-2.0"}
        assert any("LICEN" in name.upper() for name in manifest["files"]), library
        for name in manifest["files"]:
            assert (VENDOR / library / name).is_file(), name


def test_libraries_are_served_with_validators(live_hub):
    with live_hub.http() as http:
        script = http.get("/static/vendor/leaflet/leaflet.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        again = http.get(
            "/static/vendor/leaflet/leaflet.js", headers={"If-None-Match": script.headers["etag"]}
        )
        assert again.status_code == 304
        assert http.get("/static/vendor/nothing.js").status_code == 404


def test_api_documentation_works_without_internet(live_hub, page, page_log, shoot):
    """Swagger UI comes from the package: every request of the page goes to the hub itself."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_hub.url + "/api/docs")
    page.wait_for_selector(".opblock-tag", timeout=15000)
    shoot(page, "api-docs")
    assert "cityhub" in page.title()
    assert page.locator(".opblock-summary-path").count() > 0
    assert [url for url in requested if not url.startswith(live_hub.url)] == []
    page_log.assert_clean()
