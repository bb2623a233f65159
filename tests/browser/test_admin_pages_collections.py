"""The collections of a dataset on the admin datasets page, in a real Chromium against a real
hub with the demo: listed with their counts and links, renamed (and so named on the portal),
refused with the API's reason, deleted after asking."""

from __future__ import annotations

from .admin_helpers import open_signed_in
from .conftest import axe_violations

SHOW = "button[aria-label='Sammlungen des Datensatzes solingen-orte zeigen']"
EDIT = "Sammlung oeffentliche-toiletten bearbeiten"


def _focused(page, attribute: str = "id") -> str | None:
    return page.evaluate(f"document.activeElement?.getAttribute('{attribute}')")


def _failed_request_logged(message: str) -> bool:
    return message.startswith("console: Failed to load resource")


def _collections(hub, dataset: str) -> dict[str, dict]:
    with hub.http() as http:
        listed = http.get(f"/api/admin/datasets/{dataset}/collections", headers=hub.admin)
    return {c["slug"]: c for c in listed.json()}


def test_collections_are_listed_renamed_refused_and_deleted(live_hub, page, page_log, shoot):
    demo = _collections(live_hub, "solingen-orte")
    assert set(demo) == {"oeffentliche-toiletten", "stadtbezirke"}
    open_signed_in(page, live_hub, "/admin/datasets", "#datasets-list table")
    page.click(SHOW)
    page.wait_for_selector("#collections-list table")
    assert _focused(page) == "collections-list-title"
    assert "Orte in Solingen (Demo)" in page.inner_text("#collections-list-title")
    assert page.url.endswith("/admin/datasets?collections=solingen-orte")
    for slug, collection in demo.items():
        row = page.inner_text(f"#collections-list tr:has(code:text-is('{slug}'))")
        assert collection["title"] in row
        assert f"\t{collection['features']}\t{collection['gone']}\t" in row
        portal = page.get_attribute(f"a[aria-label='Sammlung {slug} im Portal']", "href")
        ogc = page.get_attribute(f"a[aria-label='Sammlung {slug} über die OGC API']", "href")
        assert (portal, ogc) == (f"/collections/{slug}", f"/features/collections/{slug}")
    shoot(page, "listed")

    page.click(f"button[aria-label='{EDIT}']")
    assert _focused(page) == "collection-form-title"
    assert page.input_value("#co-title") == "Öffentliche Toiletten (Demo)"
    page.fill("#co-title", "Toiletten im Stadtgebiet")
    page.fill("#co-description", "Wo es in Solingen öffentliche Toiletten gibt.")
    page.click("#collection-submit")
    page.wait_for_selector("#admin-status:has-text('gespeichert')")
    assert page.is_hidden("#collection-edit")
    assert "Toiletten im Stadtgebiet" in page.inner_text("#collections-list")
    assert _focused(page, "aria-label") == EDIT
    changed = _collections(live_hub, "solingen-orte")["oeffentliche-toiletten"]
    assert changed["title"] == "Toiletten im Stadtgebiet"
    assert changed["description"] == "Wo es in Solingen öffentliche Toiletten gibt."

    # The portal names it so at once; back on the admin page, the address shows it again.
    page.click("a[aria-label='Sammlung oeffentliche-toiletten im Portal']")
    page.wait_for_url("**/collections/oeffentliche-toiletten")
    assert page.inner_text("h1") == "Toiletten im Stadtgebiet"
    page.go_back()
    page.wait_for_selector("#collections-list td:has-text('Toiletten im Stadtgebiet')")

    page.click(f"button[aria-label='{EDIT}']")
    page.fill("#co-title", "")
    page.click("#collection-submit")
    page.wait_for_selector("#collection-form-error:has-text('title')")
    with live_hub.http() as http:
        refused = http.patch(
            "/api/admin/datasets/solingen-orte/collections/oeffentliche-toiletten",
            json={"title": "", "description": None},
            headers=live_hub.admin,
        )
    assert refused.status_code == 400
    assert refused.json()["message"] in page.inner_text("#collection-form-error")
    assert page.get_attribute("#co-title", "aria-invalid") == "true"
    assert _focused(page) == "co-title"
    shoot(page, "refused")
    assert axe_violations(page) == []
    page.click("#collection-cancel")
    assert page.is_hidden("#collection-edit")
    assert _focused(page, "aria-label") == EDIT
    assert _collections(live_hub, "solingen-orte")["oeffentliche-toiletten"]["title"] == (
        "Toiletten im Stadtgebiet"
    )

    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.click("button[aria-label='Sammlung stadtbezirke löschen']")
    page.wait_for_selector("#admin-status:has-text('gelöscht')")
    features = demo["stadtbezirke"]["features"]
    assert asked == [f"Sammlung „stadtbezirke“ mit ihren {features} Objekten endgültig löschen?"]
    assert page.query_selector("#collections-list code:text-is('stadtbezirke')") is None
    assert _focused(page) == "collections-list-title"
    assert "1 Sammlungen" in page.inner_text("#datasets-list tr:has(code:text-is('solingen-orte'))")
    assert set(_collections(live_hub, "solingen-orte")) == {"oeffentliche-toiletten"}
    with live_hub.http() as http:
        assert http.get("/features/collections/stadtbezirke").status_code == 404
    assert [e for e in page_log.errors if not _failed_request_logged(e)] == []
    assert len(page_log.errors) == 1  # the refused title (400)


def test_a_dataset_is_chosen_in_the_form_and_dismissing_the_question_deletes_nothing(
    live_hub, page, page_log
):
    open_signed_in(page, live_hub, "/admin/datasets?lang=en", "#datasets-list table")
    page.click("#collections-choice button[type=submit]")
    page.wait_for_selector("#collections-choice-error:has-text('Please choose a dataset')")
    assert page.is_hidden("#collections")

    page.select_option("#co-dataset", "solingen-orte")
    page.click("#collections-choice button[type=submit]")
    page.wait_for_selector("#collections-list table")
    assert page.inner_text("#collections-choice-error") == ""
    assert _focused(page) == "collections-list-title"
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button[aria-label='Delete collection oeffentliche-toiletten']")
    assert "oeffentliche-toiletten" in _collections(live_hub, "solingen-orte")
    assert page.query_selector("#collections-list .hint") is None
    page_log.assert_clean()


def test_a_restricted_dataset_says_its_links_need_a_token_and_a_deleted_one_closes_its_view(
    live_hub, page, page_log
):
    dataset = {
        "slug": "intern",
        "title": "Intern",
        "licence": "dl-zero-de/2.0",
        "visibility": "restricted",
    }
    with live_hub.http() as http:
        assert http.post("/api/admin/datasets", json=dataset, headers=live_hub.admin).is_success
    open_signed_in(page, live_hub, "/admin/datasets?collections=intern", "#collections-list .empty")
    assert page.inner_text("#collections-list .empty") == "Dieser Datensatz hat keine Sammlungen."
    assert "eingeschränkt" in page.inner_text("#collections-list .hint")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Datensatz intern löschen']")
    page.wait_for_selector("#admin-status:has-text('gelöscht')")
    assert page.is_hidden("#collections")
    assert page.url.endswith("/admin/datasets")
    page_log.assert_clean()
