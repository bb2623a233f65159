"""The admin API for datasets, organizations and tokens, over HTTP on both backends."""

from __future__ import annotations

import pytest

V = "/v1.1"


def test_the_admin_api_needs_an_admin_token(hub):
    assert hub.get("/api/admin/datasets").status_code == 401
    reader = hub.post("/api/admin/tokens", {"role": "reader", "name": "app"}).json()["token"]
    refused = hub.get("/api/admin/datasets", headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403
    assert "role admin" in refused.json()["message"]
    assert hub.get("/api/admin/datasets", headers=hub.admin).status_code == 200


def test_a_dataset_is_created_changed_shown_and_deleted(hub):
    organization = hub.post(
        "/api/admin/organizations", {"slug": "stadt-solingen", "name": "Stadt Solingen"}
    )
    assert organization.status_code == 201, organization.text
    created = hub.post(
        "/api/admin/datasets",
        {
            "slug": "parkhaeuser",
            "title": "Parkhäuser",
            "licence": "dl-by-de/2.0",
            "organization": "stadt-solingen",
        },
    )
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/api/admin/datasets/parkhaeuser"
    assert created.json()["licence"] == "http://dcat-ap.de/def/licenses/dl-by-de/2.0"

    changed = hub.patch("/api/admin/datasets/parkhaeuser", {"visibility": "restricted"})
    assert changed.json()["visibility"] == "restricted"
    shown = hub.get("/api/admin/datasets/parkhaeuser", headers=hub.admin).json()
    assert shown["visibility"] == "restricted"
    assert [d["slug"] for d in hub.get("/api/admin/datasets", headers=hub.admin).json()] == [
        "parkhaeuser"
    ]

    assert hub.delete("/api/admin/datasets/parkhaeuser").status_code == 204
    assert hub.get("/api/admin/datasets/parkhaeuser", headers=hub.admin).status_code == 404


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"slug": "x", "title": "X", "licence": "proprietary"}, "licence"),
        ({"slug": "Not A Slug", "title": "X"}, "slug"),
        ({"slug": "x", "title": "X", "visibility": "secret"}, "visibility"),
    ],
)
def test_bad_dataset_fields_are_400_naming_the_field(hub, fields, named):
    response = hub.post("/api/admin/datasets", fields)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
    assert hub.get("/api/admin/datasets", headers=hub.admin).json() == []


def test_things_are_moved_into_a_restricted_dataset_and_vanish_for_the_public(hub):
    hub.post(
        "/api/admin/datasets", {"slug": "intern", "title": "Intern", "licence": "dl-by-de/2.0"}
    )
    thing = hub.post(f"{V}/Things", {"name": "Pegel", "description": "d"})
    thing_id = int(thing.headers["Location"].rsplit("(", 1)[1].rstrip(")"))
    moved = hub.post("/api/admin/datasets/intern/things", {"things": [thing_id]})
    assert moved.json() == {"moved": 1}
    assert hub.get(f"{V}/Things({thing_id})").status_code == 200  # intern is still public
    hub.patch("/api/admin/datasets/intern", {"visibility": "restricted"})
    assert hub.get(f"{V}/Things({thing_id})").status_code == 404
    assert hub.get(f"{V}/Things({thing_id})", headers=hub.admin).status_code == 200
    bad = hub.post("/api/admin/datasets/intern/things", {"things": ["one"]})
    assert bad.status_code == 400


def test_a_bound_token_created_through_the_api_reads_its_restricted_dataset(hub):
    hub.post(
        "/api/admin/datasets",
        {
            "slug": "intern",
            "title": "Intern",
            "licence": "dl-by-de/2.0",
            "visibility": "restricted",
        },
    )
    made = hub.post("/api/admin/tokens", {"role": "reader", "name": "kiosk", "dataset": "intern"})
    assert made.status_code == 201, made.text
    listed = hub.get("/api/admin/tokens", headers=hub.admin).json()
    assert any(t["name"] == "kiosk" and t["dataset_id"] is not None for t in listed)
    assert all("token" not in t and "token_hash" not in t for t in listed)

    hub.post(
        f"{V}/Things", {"name": "Schule", "description": "d", "properties": {"dataset": "intern"}}
    )
    kiosk = {"Authorization": f"Bearer {made.json()['token']}"}
    assert hub.get(f"{V}/Things").json()["value"] == []
    assert [t["name"] for t in hub.get(f"{V}/Things", headers=kiosk).json()["value"]] == ["Schule"]

    token_id = next(t["id"] for t in listed if t["name"] == "kiosk")
    assert hub.delete(f"/api/admin/tokens/{token_id}").status_code == 204
    assert hub.get(f"{V}/Things", headers=kiosk).status_code == 401
    assert hub.delete(f"/api/admin/tokens/{token_id}").status_code == 404


def test_a_token_of_an_unknown_role_or_dataset_is_refused(hub):
    assert hub.post("/api/admin/tokens", {"role": "king", "name": "x"}).status_code == 400
    unknown = hub.post("/api/admin/tokens", {"role": "reader", "name": "x", "dataset": "nope"})
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "no dataset 'nope'"
