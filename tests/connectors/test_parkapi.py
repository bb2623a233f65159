"""ParkAPI v3 and v1: parking sites as features, free and total spaces as Datastreams."""

from __future__ import annotations

from tests.connectors.helpers import count, features_of, live

from cityhub.store import schema

V3 = "/park-api/api/public/v3/parking-sites"
V1 = "/Wuppertal"


def _latest(hub, thing_id: int) -> dict[str, int]:
    thing = hub.get(
        f"/v1.1/Things({thing_id})?$expand=Datastreams($expand=Observations($top=1))"
    ).json()
    return {
        d["properties"]["sourceKey"]: d["Observations"][0]["result"] for d in thing["Datastreams"]
    }


def test_v3_sites_with_live_numbers_become_live_features(hub, connectors):
    parking = connectors(
        {
            "parken": {
                "type": "parkapi",
                "url": "https://api.mobidata-bw.de" + V3,
                "source_uid": "solingen",
            }
        }
    )
    parking.source.serve(V3, "parkapi/v3-parking-sites.json")
    outcome = parking.run("parken")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created == 3
    assert outcome.summary.things_created == 2  # the third site has no live data
    assert outcome.summary.observations_added == 4
    assert parking.source.requests[0].url.params["source_uid"] == "solingen"

    features = features_of(hub, "parken")
    garage = features["1101"]
    assert garage["properties"]["name"] == "Parkhaus Clemens-Galerien"
    assert garage["properties"]["capacity"] == 650
    assert _latest(hub, garage["thing_id"]) == {"free": 212, "total": 650}
    assert _latest(hub, features["1102"]["thing_id"]) == {"free": 0, "total": 180}
    assert features["1103"]["thing_id"] is None
    assert features["1103"]["properties"]["type"] == "OFF_STREET_PARKING_GROUND"

    again = parking.run("parken").summary
    assert (again.observations_added, again.places_unchanged) == (0, 3)


def test_a_collection_the_connector_makes_gets_a_title_an_existing_one_keeps_its_own(
    hub, connectors
):
    source = "https://api.mobidata-bw.de" + V3
    parking = connectors(
        {
            "parken": {"type": "parkapi", "url": source},
            "garagen": {"type": "parkapi", "url": source, "collection_title": "Garagen"},
        }
    )
    parking.source.serve(V3, "parkapi/v3-parking-sites.json")
    assert parking.run("parken").status == "ok"
    assert parking.run("garagen").status == "ok"
    titles = {
        slug: hub.get(f"/features/collections/{slug}").json()["title"]
        for slug in ("parken", "garagen")
    }
    assert titles == {"parken": "Parkhäuser und Parkplätze", "garagen": "Garagen"}
    renamed = hub.patch(
        "/api/admin/datasets/parken/collections/parken", {"title": "Parken in Solingen"}
    )
    assert renamed.status_code == 200, renamed.text
    parking.source.serve(V3, "parkapi/v3-parking-sites.json")
    assert parking.run("parken").status == "ok"
    assert hub.get("/features/collections/parken").json()["title"] == "Parken in Solingen"


def test_v1_lots_with_their_city_wide_update_time(hub, connectors):
    parking = connectors({"wuppertal": {"type": "parkapi", "url": "https://api.parkendd.de" + V1}})
    parking.source.serve(V1, "parkapi/v1-city.json")
    outcome = parking.run("wuppertal")
    assert outcome.status == "ok", outcome.error
    features = features_of(hub, "wuppertal")
    assert set(features) == {"wuppertalcityarkaden", "wuppertalrathausgalerie", "wuppertalbarmen"}
    arkaden = features["wuppertalcityarkaden"]
    assert _latest(hub, arkaden["thing_id"]) == {"free": 311, "total": 820}
    # A lot without data has no series, and one without coordinates no geometry.
    assert features["wuppertalbarmen"]["thing_id"] is None
    observation = hub.get(
        f"/v1.1/Things({arkaden['thing_id']})/Datastreams?$expand=Observations"
    ).json()["value"][0]["Observations"][0]
    assert observation["phenomenonTime"].startswith("2026-12-03T06:50:00")
    assert observation["parameters"] == {"state": "open"}
    assert count(hub, schema.observations) == 4  # City-Arkaden and Rathaus-Galerie


def test_a_v1_answer_for_an_unknown_city_is_a_failure(hub, connectors):
    parking = connectors({"wuppertal": {"type": "parkapi", "url": "https://api.parkendd.de" + V1}})
    parking.source.answer(V1, 404, b'{"error": "Sorry, \'Wuppertal\' isn\'t supported."}')
    outcome = parking.run("wuppertal")
    assert outcome.status == "failed"
    assert "answered 404" in outcome.error


@live
def test_parkapi_v1_live(hub, connectors):
    config = {"type": "parkapi", "url": "https://api.parkendd.de/Dresden", "version": "v1"}
    outcome = connectors({"dresden": config}, live=True).run("dresden")
    assert outcome.status == "ok", outcome.error
    assert outcome.summary.places_created > 0
