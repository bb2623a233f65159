"""The real OWSLib OGC API – Features client, unmodified, against the hub served by uvicorn;
the features written through the hub's own feature-write path."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from owslib.ogcapi.features import Features
from tests.features.helpers import point

from cityhub.app import create_app
from cityhub.features.write import FeatureRecord, ensure_collection, write_features
from cityhub.settings import Settings
from cityhub.store.database import Store

# OWSLib's own dependencies may warn about APIs they use; they are not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class Served:
    """The hub served by uvicorn on a free port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/features"
        config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.listener]}, daemon=True
        )

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("the hub did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.listener.close()


def _write(settings: Settings) -> None:
    """A public dataset with playgrounds; one of them no longer listed (gone)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from cityhub.store import schema

    store = Store(settings)
    now = datetime.now(UTC)

    def write(connection: Any) -> None:
        dataset = connection.execute(
            insert(schema.datasets).returning(schema.datasets.c.id),
            {
                "slug": "spiel",
                "title": "Spielplätze",
                "licence": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
                "keywords": [],
                "themes": [],
                "visibility": "public",
                "created_at": now,
                "modified_at": now,
            },
        ).scalar_one()
        collection = ensure_collection(connection, dataset, "spielplaetze", title="Spielplätze")
        records = [
            FeatureRecord({"name": name, "geraete": n}, point(7.08 + n / 1000, 51.17), key=name)
            for n, name in enumerate(["Walder Park", "Birkenweiher", "Südpark", "Abgerissen"])
        ]
        write_features(connection, collection, records)
        write_features(connection, collection, records[:3], mark_missing_gone=True)

    store.write_blocking(write)
    store.close()


@pytest.fixture
def served(backend_settings: Settings) -> Iterator[Served]:
    settings = backend_settings.model_copy(update={"mqtt_enabled": False})
    _write(settings)
    with Served(settings) as hub:
        yield hub


def test_owslib_reads_collections_items_and_queryables(served):
    client = Features(served.url)
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (client.conformance()["conformsTo"])
    )
    ids = client.feature_collections()
    assert ids == ["spielplaetze", "sensors"]
    assert client.collection("spielplaetze")["title"] == "Spielplätze"
    items = client.collection_items("spielplaetze", limit=2)
    assert items["numberMatched"] == 3  # the gone one is not served
    assert [f["properties"]["name"] for f in items["features"]] == ["Walder Park", "Birkenweiher"]
    boxed = client.collection_items("spielplaetze", bbox=[7.0815, 51.16, 7.09, 51.18])
    assert [f["properties"]["name"] for f in boxed["features"]] == ["Südpark"]
    first = items["features"][0]["id"]
    assert client.collection_item("spielplaetze", str(first))["properties"]["geraete"] == 0
    queryables = client.collection_queryables("spielplaetze")
    assert queryables["properties"]["geraete"]["type"] == "integer"
    filtered = client.collection_items("spielplaetze", filter="geraete >= 1")
    assert filtered["numberMatched"] == 2
    assert "/collections/{collectionId}/items" in client.api()["paths"]


@pytest.fixture
def shared_headers() -> Iterator[None]:
    """OWSLib keeps the headers a client is given in one module-wide dict; restore it."""
    import owslib.ogcapi

    before = dict(owslib.ogcapi.REQUEST_HEADERS)
    yield
    owslib.ogcapi.REQUEST_HEADERS.clear()
    owslib.ogcapi.REQUEST_HEADERS.update(before)


def test_owslib_creates_replaces_and_deletes_a_feature(served, shared_headers):
    from tests.conftest import ADMIN_TOKEN

    client = Features(served.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    feature = {
        "type": "Feature",
        "geometry": point(7.1, 51.18),
        "properties": {"name": "Neuer Platz", "geraete": 4},
    }
    assert client.collection_item_create("spielplaetze", feature) is True
    location = client.response_headers["Location"]
    new_id = location.rsplit("/", 1)[1]
    assert client.collection_item("spielplaetze", new_id)["properties"]["geraete"] == 4
    feature["properties"]["geraete"] = 5
    assert client.collection_item_update("spielplaetze", new_id, feature) is True
    assert client.collection_item("spielplaetze", new_id)["properties"]["geraete"] == 5
    assert client.collection_item_delete("spielplaetze", new_id) is True
    assert client.collection_items("spielplaetze")["numberMatched"] == 3
