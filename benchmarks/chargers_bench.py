"""The Ladesäulenregister connector on a register of 100,000 charging stations.

    python benchmarks/chargers_bench.py [--backend sqlite|postgresql|both] [--rows 100000]
        [--layout current|older]

A register in the Bundesnetzagentur's real layout is generated (title lines above the header,
semicolons, decimal commas, up to six charge points per station; UTF-8 with BOM for the
current layout, Windows-1252 for the older one) and served through a mock transport. Figures:
- the first run of the connector, end to end: fetch, decode, read every row, map the
  stations, write them as features (one transaction), record the run — in rows per second,
  beside the floor: the bare insert of the same rows (``write_features`` with the feature
  records built beforehand, the cycle collector paused as the connector pauses it) into a
  fresh collection of an equally fresh hub;
- the second run, which finds every station unchanged and writes nothing.

Each figure is given by the wall clock and by the process's CPU time (on SQLite the whole
work is in this process): on a machine shared with other work the CPU figures are the
steadier ones.

Needs, for PostgreSQL, a server at CITYHUB_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import time
from typing import Any

import httpx
from harness import backends, hub_database, report

from cityhub.connectors.config import ConnectorConfig
from cityhub.connectors.ladesaeulen import REGISTER_URL, decode, read_register
from cityhub.connectors.service import ConnectorService
from cityhub.datasets import create_dataset
from cityhub.features.write import FeatureRecord, ensure_collection, write_features
from cityhub.settings import load_settings
from cityhub.store.database import Store

GROUPS = 6
_CURRENT = (
    "Ladeeinrichtungs-ID;Betreiber;Anzeigename (Karte);Status;Art der Ladeeinrichtung;"
    "Anzahl Ladepunkte;Nennleistung Ladeeinrichtung [kW];Inbetriebnahmedatum;Straße;Hausnummer;"
    "Adresszusatz;Postleitzahl;Ort;Kreis/kreisfreie Stadt;Bundesland;Breitengrad;Längengrad;"
    "Standortbezeichnung;Informationen zum Parkraum;Bezahlsysteme;Öffnungszeiten;"
    "Öffnungszeiten: Wochentage;Öffnungszeiten: Tageszeiten"
) + "".join(
    f";Steckertypen{n};Nennleistung Stecker{n};EVSE-ID{n};Public Key{n}" for n in range(1, 7)
)
_OLDER = (
    "Betreiber;Straße;Hausnummer;Adresszusatz;Postleitzahl;Ort;Bundesland;Kreis/kreisfreie Stadt;"
    "Breitengrad;Längengrad;Inbetriebnahmedatum;Anschlussleistung;Art der Ladeeinrichung;"
    "Anzahl Ladepunkte"
) + "".join(f";Steckertypen{n};P{n} [kW];Public Key{n}" for n in range(1, 5))
_OPERATORS = ["Stadtwerke Siegen GmbH", "EnBW mobility+ AG & Co. KG", "Westnetz GmbH", "IONITY"]
_STREETS = ["Hauptstraße", "Bahnhofstraße", "Kölner Straße", "Am Markt", "Schulstraße"]
_PLUGS = [
    ("AC Steckdose Typ 2", "22"),
    ("AC Steckdose Typ 2, AC Schuko", "11"),
    ("DC Kupplung Combo, CCS", "150"),
    ("DC CHAdeMO", "50"),
]


def register(rows: int, layout: str, seed: int = 7) -> bytes:
    """A register of ``rows`` stations in the Bundesnetzagentur's layout."""
    rng = random.Random(seed)
    header = _CURRENT if layout == "current" else _OLDER
    width = header.count(";")
    lines = [
        "Ladesäulenregister der Bundesnetzagentur" + ";" * width,
        ";" * width,
        "Letzte Aktualisierung: 01.11.2026" + ";" * width,
        ";" * width,
        "Allgemeine Informationen" + ";" * width,
        header,
    ]
    for number in range(1, rows + 1):
        points = rng.randint(1, GROUPS if layout == "current" else 4)
        plugs = [rng.choice(_PLUGS) for _ in range(points)]
        power = sum(int(p) for _, p in plugs)
        fast = any(p.startswith("DC") for p, _ in plugs)
        kind = "Schnellladeeinrichtung" if fast else "Normalladeeinrichtung"
        lat = f"{rng.uniform(47.3, 55.0):.6f}".replace(".", ",")
        lon = f"{rng.uniform(5.9, 15.0):.6f}".replace(".", ",")
        operator = rng.choice(_OPERATORS)
        street, house = rng.choice(_STREETS), str(rng.randint(1, 200))
        postcode, city = f"{rng.randint(1067, 99998):05d}", f"Ort {number % 9000}"
        district, state = f"Kreis {number % 400}", "Nordrhein-Westfalen"
        day = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2012, 2026)}"
        if layout == "current":
            cells = [str(number), operator, operator.split()[0], "In Betrieb", kind, str(points)]
            cells += [f"{power:,}".replace(",", "."), day, street, house, "", postcode, city]
            cells += [district, state, lat, lon, "", "Parkplatz", "RFID-Karte, Ad-hoc", "24/7"]
            cells += ["", ""]
            for n, (plug, kw) in enumerate(plugs, 1):
                cells += [plug, kw, f"DE*BEN*E{number}*{n}", ""]
        else:
            cells = [operator, street, house, "", postcode, city, state, district, lat, lon]
            cells += [day[:6] + day[-2:], str(power), kind, str(points)]
            for plug, kw in plugs:
                cells += [plug, kw, ""]
        cells += [""] * (width + 1 - len(cells))
        lines.append(";".join(cells))
    text = "\r\n".join(lines) + "\r\n"
    return b"\xef\xbb\xbf" + text.encode() if layout == "current" else text.encode("cp1252")


Timing = tuple[float, float]


def clocks() -> Timing:
    return time.perf_counter(), time.process_time()


def since(start: Timing) -> Timing:
    wall, cpu = clocks()
    return wall - start[0], cpu - start[1]


def connector_run(overrides: dict[str, Any], store: Store, body: bytes) -> tuple[Timing, Timing]:
    """Wall and CPU seconds of the first and of the second run of the connector."""
    config = ConnectorConfig.model_validate({"type": "ladesaeulenregister"})
    settings = load_settings(overrides, environ={}).model_copy(
        update={"connectors": {"laden": config}}
    )

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "text/csv"})

    async def both() -> tuple[Timing, Timing]:
        service = ConnectorService(store, settings, transport=httpx.MockTransport(answer))
        try:
            timings = []
            for expected in ("created", "unchanged"):
                started = clocks()
                outcome = await service.run_now("laden")
                timings.append(since(started))
                assert outcome.status == "ok", outcome.error
                summary = outcome.summary
                assert summary is not None
                done = summary.places_created if expected == "created" else summary.places_unchanged
                print(f"  run: {summary.describe()}")
                assert done > 0.99 * rows_of(body), summary.describe()
            return timings[0], timings[1]
        finally:
            await service.aclose()

    return asyncio.run(both())


def rows_of(body: bytes) -> int:
    return body.count(b"\r\n") - 6


def bare_insert(store: Store, body: bytes) -> Timing:
    """Wall and CPU seconds to write the same stations as prepared feature records: the
    floor."""
    records = [
        FeatureRecord(
            {k: v for k, v in station.items() if k not in ("latitude", "longitude")},
            {"type": "Point", "coordinates": [station["longitude"], station["latitude"]]},
            key=str(station.get("id") or index),
        )
        for index, station in enumerate(read_register("bench", decode("bench", body)))
    ]

    def write(connection: Any) -> int:
        dataset = create_dataset(connection, slug="floor", title="Floor", licence="cc-by/4.0")
        collection = ensure_collection(connection, dataset, "floor", key_property="id")
        return write_features(connection, collection, records).created

    gc.disable()
    try:
        started = clocks()
        created = store.write_blocking(write)
        elapsed = since(started)
    finally:
        gc.enable()
    assert created == len(records)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--layout", choices=["current", "older"], default="current")
    args = parser.parse_args()
    body = register(args.rows, args.layout)
    print(f"register: {args.rows:,} rows, {len(body) / 1e6:.1f} MB, {args.layout} layout")
    started = time.perf_counter()
    parsed = sum(1 for _ in read_register(REGISTER_URL, decode(REGISTER_URL, body)))
    reading = time.perf_counter() - started
    print(f"  reading alone: {parsed / reading:,.0f} rows/s")
    for backend in backends(args.backend):
        print(f"\n== {backend} ==")
        with hub_database(backend, dir_prefix="cityhub-chargers-") as (_, store):
            floor = bare_insert(store, body)
        with hub_database(backend, dir_prefix="cityhub-chargers-") as (overrides, store):
            first, second = connector_run(overrides, store, body)
        for clock, index in (("wall", 0), ("CPU", 1)):
            floor_rate = args.rows / floor[index]
            for name, timing in (
                ("first run, end to end", first),
                ("second run, unchanged", second),
            ):
                rate = args.rows / timing[index]
                report(
                    f"{name} ({clock})",
                    f"{rate:,.0f} rows/s",
                    f"{floor_rate:,.0f} rows/s (bare insert)",
                    rate / floor_rate,
                )


if __name__ == "__main__":
    main()
