"""``cityhub import`` on both backends: files and URLs, upserts by key, strict, bad rows."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cityhub.cli import main
from cityhub.datasets.manage import create_dataset
from cityhub.settings import Settings
from cityhub.store import schema
from cityhub.store.database import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "features"


@pytest.fixture
def cli(backend_settings: Settings):
    """Runs ``cityhub`` on the test hub's database, after creating the dataset 'stadt'."""
    store = Store(backend_settings)
    store.write_blocking(
        lambda c: create_dataset(c, slug="stadt", title="Stadt", licence="dl-by-de/2.0")
    )
    store.close()
    flags = ["--data-dir", str(backend_settings.data_dir)]
    if backend_settings.database_url:
        flags += ["--database", backend_settings.database_url]

    def run(*args: str):
        return CliRunner().invoke(main, [*args, *flags], catch_exceptions=False)

    return run


def features(settings: Settings, collection: str) -> dict[str, dict]:
    """The collection's features by key (or by name without one): properties and geometry."""
    table, collections = schema.features, schema.collections
    query = (
        select(table.c.key, table.c.properties, table.c.geom)
        .join(collections, collections.c.id == table.c.collection_id)
        .where(collections.c.slug == collection)
    )
    store = Store(settings)
    try:
        rows = store.read_blocking(lambda c: c.execute(query).mappings().all())
    finally:
        store.close()
    return {row["key"] or row["properties"]["name"]: dict(row) for row in rows}


def test_a_re_import_with_a_key_updates_in_place(cli, backend_settings, tmp_path):
    source = FIXTURES / "toilets-cp1252.csv"
    args = ("import", str(source), "--dataset", "stadt", "--collection", "toiletten")
    first = cli(*args, "--key", "Nr", "--title", "Öffentliche Toiletten")
    assert first.exit_code == 0, first.output
    assert "toiletten: 4 created, 0 updated, 0 unchanged, 0 rejected (key: Nr)" in first.output
    assert "windows-1252" in first.output

    again = cli(*args)  # the collection remembers its key
    assert "0 created, 0 updated, 4 unchanged, 0 rejected" in again.output

    changed = tmp_path / "toilets.csv"
    text = source.read_bytes().decode("windows-1252").replace("ja;1,00", "nein;1,50")
    text += "WC-5;Toilette Walder Kirchplatz;Kirchplatz;51,1702;7,0512;ja;0\r\n"
    changed.write_bytes(text.encode("windows-1252"))
    third = cli("import", str(changed), "--dataset", "stadt", "--collection", "toiletten")
    assert "1 created, 1 updated, 3 unchanged, 0 rejected" in third.output, third.output

    stored = features(backend_settings, "toiletten")
    assert sorted(stored) == ["WC-1", "WC-2", "WC-3", "WC-4", "WC-5"]
    assert stored["WC-4"]["properties"]["Gebühr"] == 1.5
    assert stored["WC-4"]["properties"]["Barrierefrei"] is False
    assert stored["WC-5"]["properties"]["Bezeichnung"] == "Toilette Walder Kirchplatz"
    assert '"coordinates":[7.0512,51.1702]' in stored["WC-5"]["geom"].replace(" ", "")


def test_bad_rows_are_reported_and_the_rest_imported(cli, backend_settings):
    result = cli(
        "import", str(FIXTURES / "bad-rows.csv"), "--dataset", "stadt", "--collection", "spiel"
    )
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 0 unchanged, 5 rejected" in result.output
    assert "line 3: no coordinates (columns 'lon' and 'lat' are empty)" in result.output
    assert "line 6: (365150, 5670180) is not a longitude/latitude" in result.output
    assert "line 7: 5 values, but the header (line 1) names 4 columns" in result.output
    assert (
        "line 5: (51.1655, 7.0401) lies far from the other points; with longitude and latitude "
        "swapped it would lie among them"
    ) in result.output
    assert sorted(features(backend_settings, "spiel")) == [
        "Spielplatz Hasseldelle",
        "Spielplatz Walder Straße",
    ]


def test_strict_imports_nothing_when_a_row_is_bad(cli, backend_settings):
    source = str(FIXTURES / "bad-rows.csv")
    result = cli("import", source, "--dataset", "stadt", "--collection", "spiel", "--strict")
    assert result.exit_code == 1
    assert "line 4: column 'lat' is '51.16x', not a number" in result.output
    assert "5 rows cannot be imported; --strict: nothing was imported" in result.output
    assert features(backend_settings, "spiel") == {}
    listed = cli("dataset", "list").output
    assert "0 collections" in listed  # not even the collection was created


def test_utm_coordinates_and_a_duplicate_key(cli, backend_settings, tmp_path):
    source = tmp_path / "chargers.csv"
    text = (FIXTURES / "chargers-utm32.csv").read_text()
    source.write_text(text + "L-1,EnBW,1,11,365160.0,5670190.0\n")
    result = cli(
        "import", str(source), "--dataset", "stadt", "--collection", "ladepunkte",
        "--key", "id", "--crs", "EPSG:25832",
    )  # fmt: skip
    assert "3 created, 0 updated, 0 unchanged, 1 rejected" in result.output, result.output
    assert "line 5: key 'L-1' already used on line 2" in result.output
    stored = features(backend_settings, "ladepunkte")
    assert stored["L-1"]["properties"]["betreiber"] == "Stadtwerke Solingen"
    assert '"coordinates":[7.071' in stored["L-1"]["geom"].replace(" ", "")


def test_command_line_mistakes_are_explained(cli):
    toilets = str(FIXTURES / "toilets.geojson")
    both = cli(
        "import", toilets, "--dataset", "stadt", "--collection", "c", "--wkt", "g", "--lon", "x"
    )
    assert both.exit_code == 2
    assert "either --lon and --lat, or --wkt" in both.output
    crs = cli("import", toilets, "--dataset", "stadt", "--collection", "c", "--crs", "EPSG:99999")
    assert crs.exit_code == 2
    assert "unknown coordinate reference system 'EPSG:99999'" in crs.output
    dataset = cli("import", toilets, "--dataset", "land", "--collection", "c")
    assert dataset.exit_code == 1
    assert "no dataset 'land'" in dataset.output
    slug = cli("import", toilets, "--dataset", "stadt", "--collection", "Öffentliche WCs")
    assert "collection: 'Öffentliche WCs' is not a valid slug" in slug.output
    missing = cli("import", "nirgends.csv", "--dataset", "stadt", "--collection", "c")
    assert "cannot read 'nirgends.csv'" in missing.output


@pytest.fixture
def file_server() -> Iterator[str]:
    """The fixtures folder over HTTP on a free port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_url_is_fetched_and_imported(cli, backend_settings, file_server):
    url = f"{file_server}/toilets.geojson"
    args = ("import", url, "--dataset", "stadt", "--collection", "wc", "--key", "id")
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "wc: 4 created" in result.output
    assert "GeoJSON, 4 features" in result.output
    assert sorted(features(backend_settings, "wc")) == ["wc-1", "wc-2", "wc-3", "wc-4"]
    assert "4 unchanged" in cli(*args).output
    missing = cli("import", f"{file_server}/fehlt.csv", "--dataset", "stadt", "--collection", "x")
    assert missing.exit_code == 1
    assert "answered HTTP 404" in missing.output


def test_a_large_file_shows_progress(cli, backend_settings, tmp_path):
    source = tmp_path / "baeume.csv"
    rows = [f"B-{i};Linde;{51.1 + i / 1e5:.5f};{7.0 + i / 1e5:.5f}" for i in range(6000)]
    source.write_text("baumnr;art;lat;lon\n" + "\n".join(rows) + "\n")
    result = cli(
        "import", str(source), "--dataset", "stadt", "--collection", "baeume", "--key", "baumnr"
    )
    assert result.exit_code == 0, result.output
    assert "importing" in result.output
    assert "6000 created" in result.output
    assert len(features(backend_settings, "baeume")) == 6000
