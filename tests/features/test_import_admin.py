"""The admin API's feature import and collections, over HTTP on both backends."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "features"
BASE = "/api/admin/datasets/stadt/collections"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def stadt(hub):
    created = hub.post(
        "/api/admin/datasets", {"slug": "stadt", "title": "Stadt", "licence": "dl-by-de/2.0"}
    )
    assert created.status_code == 201, created.text
    return hub


def upload(hub, collection: str, name: str, data: bytes, media_type: str, **params):
    return hub.request(
        "POST",
        f"{BASE}/{collection}/import",
        params=params,
        files={"file": (name, data, media_type)},
        headers=hub.admin,
    )


def send_raw(hub, collection: str, data: bytes, media_type: str, **params):
    headers = {**hub.admin, "Content-Type": media_type}
    return hub.request(
        "POST", f"{BASE}/{collection}/import", params=params, content=data, headers=headers
    )


def collections(hub) -> dict[str, dict]:
    listed = hub.get(BASE, headers=hub.admin)
    assert listed.status_code == 200, listed.text
    return {item["slug"]: item for item in listed.json()}


def test_an_uploaded_csv_is_imported_and_re_imported_by_key(stadt):
    data = (FIXTURES / "toilets-cp1252.csv").read_bytes()
    first = upload(stadt, "toiletten", "toilets.csv", data, "text/csv", key="Nr", title="WCs")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (4, 0, 0, 0)
    assert body["key"] == "Nr"
    assert "windows-1252" in body["read_as"]
    again = upload(stadt, "toiletten", "toilets.csv", data, "text/csv")
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 4)
    listed = collections(stadt)["toiletten"]
    assert (listed["features"], listed["title"], listed["key_property"]) == (4, "WCs", "Nr")


def test_a_raw_geojson_body_in_utm_is_transformed(stadt):
    data = (FIXTURES / "stops-epsg25832.geojson").read_bytes()
    response = send_raw(stadt, "haltestellen", data, "application/geo+json")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    assert "urn:ogc:def:crs:EPSG::25832" in response.json()["read_as"]
    stored = stadt.store.read_blocking(
        lambda c: c.exec_driver_sql("SELECT geom FROM features ORDER BY id").all()
    )
    assert len(stored) == 2


def test_bad_rows_come_back_with_their_line_numbers(stadt):
    data = (FIXTURES / "bad-rows.csv").read_bytes()
    response = send_raw(stadt, "spiel", data, "text/csv")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["rejected"]) == (2, 5)
    assert [row["line"] for row in body["rejected_rows"]] == [3, 4, 5, 6, 7]
    assert body["rejected_rows"][1] == {
        "line": 4,
        "reason": "column 'lat' is '51.16x', not a number",
    }
    assert "swapped it would lie among them" in body["rejected_rows"][2]["reason"]


def test_strict_is_a_400_naming_the_lines_and_writes_nothing(stadt):
    data = (FIXTURES / "bad-rows.csv").read_bytes()
    response = send_raw(stadt, "spiel", data, "text/csv", strict="true")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["code", "type", "message"]
    assert body["message"].startswith("5 rows cannot be imported, so nothing was imported")
    assert "line 3: no coordinates" in body["message"]
    assert "line 7: 5 values" in body["message"]
    assert collections(stadt) == {}


def test_an_xlsx_upload_with_options(stadt):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Ladesäulen"
    sheet.append(["Ladesäulen, Stand 2024"])
    sheet.append(["Nummer", "Ost", "Nord", "Leistung"])
    sheet.append(["L-1", 365150.2, 5670180.7, 22])
    sheet.append(["L-2", 360310.0, 5669710.5, 50])
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(
        stadt, "ladesaeulen", "lade.xlsx", buffer.getvalue(), XLSX,
        crs="EPSG:25832", lon="Ost", lat="Nord", key="Nummer", sheet="Ladesäulen",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    assert "header in row 2" in response.json()["read_as"]


@pytest.mark.parametrize(
    ("params", "data", "message"),
    [
        ({"crs": "EPSG:0"}, b"a;lat;lon\n1;51;7\n", "unknown coordinate reference system"),
        ({"lon": "x", "wkt": "g"}, b"a;lat;lon\n1;51;7\n", "either lon and lat, or wkt"),
        ({"lon": "ost", "lat": "nord"}, b"a;lat;lon\n1;51;7\n", "no column 'ost'"),
        ({}, b"", "the file is empty"),
        ({"format": "shp"}, b"a;lat;lon\n1;51;7\n", "unknown format 'shp'"),
    ],
)
def test_bad_uploads_are_400_saying_why(stadt, params, data, message):
    response = send_raw(stadt, "x", data, "text/csv", **params)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]


def test_unknown_dataset_bad_slug_and_missing_file_field(stadt):
    data = (FIXTURES / "toilets.geojson").read_bytes()
    unknown = stadt.request(
        "POST",
        "/api/admin/datasets/land/collections/wc/import",
        content=data,
        headers={**stadt.admin, "Content-Type": "application/geo+json"},
    )
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "no dataset 'land'"
    slug = send_raw(stadt, "Öffentliche%20WCs", data, "application/geo+json")
    assert slug.status_code == 400
    assert "not a valid slug" in slug.json()["message"]
    no_file = stadt.request(
        "POST", f"{BASE}/wc/import", files={"datei": ("x", b"1", "text/csv")}, headers=stadt.admin
    )
    assert no_file.status_code == 400
    assert "multipart field named 'file'" in no_file.json()["message"]


def test_the_routes_need_an_admin_token(stadt):
    data = (FIXTURES / "toilets.geojson").read_bytes()
    anonymous = stadt.request("POST", f"{BASE}/wc/import", content=data)
    assert anonymous.status_code == 401
    assert stadt.get(BASE).status_code == 401
    assert stadt.delete(f"{BASE}/wc", auth=False).status_code == 401
    reader = stadt.post("/api/admin/tokens", {"role": "reader", "name": "app"}).json()["token"]
    refused = stadt.request(
        "POST", f"{BASE}/wc/import", content=data, headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403
    assert collections(stadt) == {}


def test_a_collection_is_listed_and_deleted(stadt):
    data = (FIXTURES / "toilets.geojson").read_bytes()
    assert send_raw(stadt, "wc", data, "application/geo+json").status_code == 200
    send_raw(stadt, "parken", (FIXTURES / "parking.ndjson").read_bytes(), "application/x-ndjson")
    listed = collections(stadt)
    assert (listed["wc"]["features"], listed["parken"]["features"]) == (4, 3)
    shown = stadt.get("/api/admin/datasets/stadt", headers=stadt.admin).json()
    assert shown["collections"] == 2
    assert stadt.delete(f"{BASE}/wc").status_code == 204
    assert list(collections(stadt)) == ["parken"]
    again = stadt.delete(f"{BASE}/wc")
    assert again.status_code == 404
    assert again.json()["message"] == "no collection 'wc' in dataset 'stadt'"
    count = stadt.store.read_blocking(
        lambda c: c.exec_driver_sql("SELECT count(*) FROM features").scalar()
    )
    assert count == 3
    assert stadt.get("/api/admin/datasets/land/collections", headers=stadt.admin).status_code == 404


def test_an_upload_larger_than_the_limit_is_413(stadt):
    limit = stadt.settings.max_import_bytes
    headers = {**stadt.admin, "Content-Type": "text/csv", "Content-Length": str(limit + 1)}
    response = stadt.request("POST", f"{BASE}/x/import", content=b"x" * 10, headers=headers)
    assert response.status_code == 413


def test_a_collection_of_another_dataset_is_not_taken_over(stadt):
    stadt.post("/api/admin/datasets", {"slug": "land", "title": "Land", "licence": "cc-zero"})
    data = (FIXTURES / "toilets.geojson").read_bytes()
    assert send_raw(stadt, "wc", data, "application/geo+json").status_code == 200
    other = stadt.request(
        "POST",
        "/api/admin/datasets/land/collections/wc/import",
        content=data,
        headers={**stadt.admin, "Content-Type": "application/geo+json"},
    )
    assert other.status_code == 400
    assert "belongs to another dataset" in other.json()["message"]
    assert collections(stadt)["wc"]["features"] == 4


def test_the_upload_body_is_described_in_the_openapi_document(sqlite_hub):
    document = sqlite_hub.get("/api/openapi.json").json()
    route = document["paths"]["/api/admin/datasets/{dataset}/collections/{collection}/import"]
    content = route["post"]["requestBody"]["content"]
    assert content["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert {"text/csv", "application/geo+json", XLSX} <= set(content)
    parameters = {p["name"] for p in route["post"]["parameters"]}
    assert {"key", "strict", "crs", "lon", "lat", "wkt", "delimiter", "sheet"} <= parameters
