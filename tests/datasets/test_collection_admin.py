"""Renaming and describing a feature collection through the admin API."""

from __future__ import annotations

import pytest
from tests.features.helpers import add_collection, add_dataset

from cityhub.settings import SettingsError, load_settings

URL = "/api/admin/datasets/orte/collections/toiletten"


@pytest.fixture
def toilets(hub):
    add_collection(hub, add_dataset(hub, "orte"), "toiletten")
    return hub


def test_title_and_description_change_and_show_on_every_face(toilets):
    changed = toilets.patch(URL, {"title": "Öffentliche Toiletten", "description": "Alle WCs"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Öffentliche Toiletten"
    assert changed.json()["description"] == "Alle WCs"
    face = toilets.get("/features/collections/toiletten").json()
    assert (face["title"], face["description"]) == ("Öffentliche Toiletten", "Alle WCs")
    assert "Öffentliche Toiletten" in toilets.get("/collections/toiletten").text


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"title": ""}, "title: String should have at least 1 character"),
        ({"slug": "wc"}, "slug: Extra inputs are not permitted"),
        ({"title": "x" * 201}, "title: String should have at most 200 characters"),
    ],
)
def test_bad_changes_are_400s_naming_the_field_and_change_nothing(toilets, body, says):
    answer = toilets.patch(URL, body)
    assert answer.status_code == 400
    assert says in answer.json()["message"]
    assert toilets.get("/features/collections/toiletten").json()["title"] == "Toiletten"


def test_changes_need_an_admin_token_and_an_existing_collection(toilets):
    assert toilets.patch(URL, {"title": "WC"}, auth=False).status_code == 401
    missing = toilets.patch("/api/admin/datasets/orte/collections/nope", {"title": "WC"})
    assert missing.status_code == 404
    assert "no collection 'nope'" in missing.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        *(b"[]", b'[{"title": "WC"}]', b"null", b'"WC"', b"42", b"true", b"{", b"", b"\xff"),
        *(b'{"title": 5}', b'{"title": ["WC"]}', b'{"description": {"de": "WC"}}'),
        *(b'{"title": "WC", "id": 9}', b'{"title": "  "}'),
    ],
)
def test_bodies_that_are_no_object_or_the_wrong_one_are_400s(toilets, body):
    answer = toilets.patch(URL, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert toilets.get("/features/collections/toiletten").json()["title"] == "Toiletten"


def test_a_null_title_keeps_the_title_and_a_null_description_clears_it(toilets):
    toilets.patch(URL, {"description": "Alle WCs"})
    answer = toilets.patch(URL, {"title": None, "description": None})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["title"], answer.json()["description"]) == ("Toiletten", None)


def test_the_answer_is_the_collection_as_the_listing_shows_it(toilets):
    changed = toilets.patch(URL, {"description": "Alle WCs"}).json()
    listed = toilets.get("/api/admin/datasets/orte/collections", headers=toilets.admin).json()
    assert [changed] == [c for c in listed if c["slug"] == "toiletten"]
    assert changed["features"] == 0


@pytest.mark.parametrize("text", ["WC\x00", "WC\x1b[31m", "WC\x7f"])
def test_control_characters_are_refused_in_every_checked_text(toilets, text):
    answer = toilets.patch(URL, {"title": text})
    assert answer.status_code == 400
    assert "control characters" in answer.json()["message"]
    created = toilets.post(
        "/api/admin/datasets",
        json={"slug": "zeichen", "title": "Zeichen", "licence": "cc-zero", "keywords": [text]},
    )
    assert created.status_code == 400
    assert "keywords" in created.json()["message"]
    organization = toilets.post("/api/admin/organizations", json={"slug": "o", "name": text})
    assert organization.status_code == 400
    kept = toilets.patch(URL, {"description": "Zeile eins\nZeile zwei\tmit Tab"})
    assert kept.status_code == 200


def test_addresses_that_become_catalog_iris_must_be_fit_for_one(toilets, tmp_path):
    bad_url = toilets.post(
        "/api/admin/organizations", json={"slug": "o", "name": "O", "url": "https://x.de/a b>"}
    )
    assert bad_url.status_code == 400
    assert "url" in bad_url.json()["message"]
    bad_mail = toilets.patch("/api/admin/datasets/orte", {"contact_email": "post stelle@x.de"})
    assert bad_mail.status_code == 400
    assert "contact_email" in bad_mail.json()["message"]
    good = toilets.patch("/api/admin/datasets/orte", {"contact_email": "geodaten@solingen.de"})
    assert good.status_code == 200
    with pytest.raises(SettingsError, match="catalog_homepage"):
        load_settings({"data_dir": tmp_path, "catalog_homepage": "www.solingen.de"}, environ={})
