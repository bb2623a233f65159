"""The open-data catalog of a large city: the DCAT-AP.de catalog and CKAN's package_search
over 1,000 datasets, through the served hub, each beside a floor measured in the same run.

    python benchmarks/catalog_bench.py [--backend sqlite|postgresql|both] [--datasets 1000]
        [--repeat 5]

Each dataset holds a collection of 5 features and a Thing with a Location and 2 Datastreams
(so 11 distributions: the SensorThings API, the collection's API, 9 downloads). Figures are
medians of ``--repeat`` HTTP requests to ``cityhub serve``:
- the whole catalog (``?page_size=1000``) in Turtle and in JSON-LD, one page of 100 in Turtle;
- the whole catalog asked again with the ETag of the copy held (a 304, nothing rendered);
- ``package_search`` with ``rows=1000``;
- floors: rdflib serialising the same triples, from a graph built beforehand, as N-Triples
  (its fastest writer) and as Turtle (its own pretty writer, what a plain rdflib catalog costs);
  orjson writing the same 1,000 package dicts.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from harness import START, backends, hub_database, hub_env, median_ms, report, running_hub
from sqlalchemy import Connection, insert, select

from cityhub.catalog import ckan, dcat, rdf, records
from cityhub.catalog.profile import profile
from cityhub.settings import load_settings
from cityhub.store import schema
from cityhub.store.database import Store

MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
EU = "http://publications.europa.eu/resource/authority/"


def _point(index: int, step: int) -> str:
    lon, lat = 6.9 + (index % 100) * 0.003 + step * 0.0001, 51.1 + (index // 100) * 0.01
    return orjson.dumps({"type": "Point", "coordinates": [lon, lat]}).decode()


def seed(store: Store, count: int) -> None:
    now = datetime.now(UTC)

    def write(connection: Connection) -> None:
        ids = connection.scalars(
            insert(schema.datasets).returning(schema.datasets.c.id),
            [
                {
                    "slug": f"datensatz-{i:04d}",
                    "title": f"Datensatz {i}: Messungen und Orte",
                    "description": f"Beschreibung des Datensatzes {i} mit Sensoren und Orten.",
                    "licence": "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                    "keywords": ["Umwelt", f"Stichwort {i % 20}"],
                    "themes": [EU + "data-theme/ENVI"],
                    "update_frequency": EU + "frequency/HOURLY",
                    "hvd_category": "http://data.europa.eu/bna/c_164e0bf5" if i % 3 else None,
                    "visibility": "public",
                    "created_at": now,
                    "modified_at": now,
                }
                for i in range(count)
            ],
        ).all()
        _content(connection, list(ids), now)

    store.write_blocking(write)


def _content(connection: Connection, ids: list[int], now: datetime) -> None:
    collections = connection.scalars(
        insert(schema.collections).returning(schema.collections.c.id),
        [
            {"slug": f"orte-{i}", "dataset_id": d, "title": f"Orte {i}", "created_at": now}
            | {"modified_at": now}
            for i, d in enumerate(ids)
        ],
    ).all()
    connection.execute(
        insert(schema.features),
        [
            {"collection_id": c, "properties": {"n": k}, "geom": _point(i, k), "created_at": now}
            | {"modified_at": now, "time_start": START + timedelta(days=k)}
            for i, c in enumerate(collections)
            for k in range(5)
        ],
    )
    things = connection.scalars(
        insert(schema.things).returning(schema.things.c.id),
        [
            {"name": f"Messstelle {i}", "description": "d", "dataset_id": d}
            for i, d in enumerate(ids)
        ],
    ).all()
    location = {"type": "Point", "coordinates": [7.0, 51.2]}
    locations = connection.scalars(
        insert(schema.locations).returning(schema.locations.c.id),
        [
            {"name": "L", "description": "d", "encoding_type": "application/geo+json"}
            | {"location": location, "geom": _point(i, 9)}
            for i in range(len(things))
        ],
    ).all()
    connection.execute(
        insert(schema.thing_locations),
        [{"thing_id": t, "location_id": loc} for t, loc in zip(things, locations, strict=True)],
    )
    sensor = connection.scalar(
        insert(schema.sensors).returning(schema.sensors.c.id),
        {"name": "S", "description": "d", "encoding_type": "text/html", "metadata": "x"},
    )
    prop = connection.scalar(
        insert(schema.observed_properties).returning(schema.observed_properties.c.id),
        {"name": "T", "definition": "x", "description": "d"},
    )
    connection.execute(
        insert(schema.datastreams),
        [
            {"name": f"Temperatur {k}", "description": "d", "unit_of_measurement": {"name": "C"}}
            | {"observation_type": MEASUREMENT, "thing_id": t, "sensor_id": sensor}
            | {"observed_property_id": prop, "phenomenon_time_start": START}
            | {"phenomenon_time_end": now}
            for t in things
            for k in range(2)
        ],
    )


def floors(store: Store, base: str, repeat: int) -> dict[str, float]:
    settings = load_settings({}, environ={})
    described = profile(settings, base)
    found = store.read_blocking(lambda c: records.read(c, records.Selection()))
    triples = dcat.catalog_triples(described, found, None)
    graph = rdf.to_graph(triples)
    packages = [ckan.package(described, record) for record in found]
    return {
        "triples": len(triples),
        "nt": median_ms(lambda: graph.serialize(format="nt"), repeat),
        "turtle": median_ms(lambda: graph.serialize(format="turtle"), 1),
        "orjson": median_ms(lambda: orjson.dumps(packages), repeat),
    }


def run(backend: str, count: int, repeat: int) -> None:
    with hub_database(backend, "catalog") as (overrides, store):
        seed(store, count)
        assert (
            store.read_blocking(lambda c: len(c.execute(select(schema.datasets.c.id)).all()))
            == count
        )
        with running_hub(overrides, hub_env(admin_token=False)) as (_, base):
            floor = floors(store, base, repeat)
            client = httpx.Client(base_url=base, timeout=120)

            def get(url: str, **kwargs: Any) -> Any:
                response = client.get(url, **kwargs)
                response.raise_for_status()
                return response

            get("/catalog?page_size=1000")  # warm
            whole_ttl = median_ms(lambda: get("/catalog.ttl?page_size=1000"), repeat)
            whole_jsonld = median_ms(lambda: get("/catalog.jsonld?page_size=1000"), repeat)
            page_ttl = median_ms(lambda: get("/catalog.ttl?page=3"), repeat)
            tag = get("/catalog.ttl?page_size=1000").headers["etag"]
            unchanged = median_ms(
                lambda: _not_modified(client, "/catalog.ttl?page_size=1000", tag), repeat
            )
            search = median_ms(
                lambda: client.post(
                    "/api/3/action/package_search", json={"rows": 1000}
                ).raise_for_status(),
                repeat,
            )
            client.close()
        print(f"{backend}: {count} datasets, {floor['triples']} triples in the whole catalog")
        nt = f"rdflib N-Triples {floor['nt']:.0f} ms"
        report("whole catalog, Turtle", f"{whole_ttl:.0f} ms", nt, whole_ttl / floor["nt"], True)
        report(
            "whole catalog, JSON-LD", f"{whole_jsonld:.0f} ms", nt, whole_jsonld / floor["nt"], True
        )
        report("page of 100, Turtle", f"{page_ttl:.0f} ms", nt, page_ttl / floor["nt"], True)
        rendered = f"the whole catalog {whole_ttl:.0f} ms"
        report(
            "whole catalog unchanged (304)",
            f"{unchanged:.1f} ms",
            rendered,
            unchanged / whole_ttl,
            True,
        )
        pretty = f"rdflib Turtle {floor['turtle']:.0f} ms"
        report(
            "whole catalog, Turtle (vs rdflib)",
            f"{whole_ttl:.0f} ms",
            pretty,
            whole_ttl / floor["turtle"],
            True,
        )
        dumps = f"orjson of packages {floor['orjson']:.0f} ms"
        report(
            "package_search rows=1000", f"{search:.0f} ms", dumps, search / floor["orjson"], True
        )


def _not_modified(client: httpx.Client, url: str, tag: str) -> None:
    """A harvester's request for a copy it holds: answered from the validators alone."""
    response = client.get(url, headers={"If-None-Match": tag})
    assert response.status_code == 304, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    for backend in backends(arguments.backend):
        run(backend, arguments.datasets, arguments.repeat)


if __name__ == "__main__":
    main()
