"""Uplinks through ``POST /ingest/lorawan/{name}`` into Observations, on both backends:
deduplication, rejoins, events, dead letters and their retry, auto-provisioning."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime

import pytest

from .helpers import (
    CS3_EUI,
    CS_EUI,
    SECRET,
    SECRET_ENV,
    TTS_EUI,
    V,
    add_device,
    dead_letters,
    fixture,
    integration,
    lorawan_hub,
    observations,
    post_webhook,
    tts_uplink,
)


@pytest.fixture
def lorawan(backend_settings, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    hub = lorawan_hub(
        backend_settings,
        integration("ttn-city", "ttn"),
        integration("cs-city", "chirpstack"),
        integration("cs3-city", "chirpstack3"),
    )
    yield hub
    hub.close()


def _tts_device(hub, **extra):
    fields = {
        "temperature": {"unit_symbol": "°C", "range": [-40, 85]},
        "humidity": {},
        "radio.rssi": {},
    }
    return add_device(hub, dev_eui=TTS_EUI.lower(), name="air-07", fields=fields, **extra)


def test_a_tts_webhook_uplink_becomes_observations_at_its_reception_time(lorawan):
    device = _tts_device(lorawan)
    response = post_webhook(lorawan, "ttn-city", fixture("tts_uplink_mqtt"))
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "stored", "observations": 3}

    temperature = observations(lorawan, device["mapping"]["temperature"])
    assert [o["result"] for o in temperature] == [25.18]
    assert temperature[0]["phenomenonTime"] == "2026-11-14T09:31:07.279164Z"
    assert temperature[0]["resultTime"] > "2026-12"  # when it was stored, not received
    assert [o["result"] for o in observations(lorawan, device["mapping"]["radio.rssi"])] == [-97]
    stream = lorawan.get(f"{V}/Datastreams({device['mapping']['temperature']})").json()
    assert stream["unitOfMeasurement"]["symbol"] == "°C"
    assert stream["properties"]["range"] == [-40, 85]
    thing = lorawan.get(f"{V}/Datastreams({device['mapping']['temperature']})/Thing").json()
    assert thing["@iot.id"] == device["thing_id"]
    assert thing["properties"]["devEUI"] == TTS_EUI


def test_the_same_uplink_twice_is_stored_once(lorawan):
    device = _tts_device(lorawan)
    first = post_webhook(lorawan, "ttn-city", fixture("tts_uplink_mqtt"))
    again = post_webhook(lorawan, "ttn-city", fixture("tts_uplink_mqtt"))
    assert first.json()["status"] == "stored"
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "observations": 0, "detail": "stored before"}
    assert len(observations(lorawan, device["mapping"]["temperature"])) == 1


def test_uplinks_older_than_the_retention_are_forgotten_and_the_rest_kept(lorawan):
    _tts_device(lorawan)
    old = tts_uplink(f_cnt=1, correlation="OLD", received_at="2026-08-01T10:00:00Z")
    recent = tts_uplink(f_cnt=2, correlation="NEW", received_at="2026-11-30T10:00:00Z")
    for body in (old, recent):
        assert post_webhook(lorawan, "ttn-city", body).json()["status"] == "stored"
    service = lorawan.app.state.lorawan
    assert service.settings.lorawan_uplink_days == 90
    assert service.prune_uplinks(now=datetime(2026, 12, 3, tzinfo=UTC)) == 1
    # The recent one is still known, so it is not stored twice.
    assert post_webhook(lorawan, "ttn-city", recent).json()["status"] == "duplicate"


def test_a_frame_counter_reset_after_a_rejoin_is_a_new_uplink(lorawan):
    device = _tts_device(lorawan)
    before = tts_uplink(f_cnt=0, session="OLDSESSION==", correlation="A1", decoded={"humidity": 30})
    after = tts_uplink(
        f_cnt=0,
        session="NEWSESSION==",
        correlation="B2",
        decoded={"humidity": 31},
        received_at="2026-11-14T10:00:00Z",
    )
    assert post_webhook(lorawan, "ttn-city", before).json()["status"] == "stored"
    assert post_webhook(lorawan, "ttn-city", after).json()["status"] == "stored"
    assert [o["result"] for o in observations(lorawan, device["mapping"]["humidity"])] == [30, 31]


def test_chirpstack_v3_without_a_deduplication_id_tells_sessions_apart(lorawan):
    device = add_device(lorawan, dev_eui=CS3_EUI, fields=["fill_level"])
    body = fixture("chirpstack3_up")
    assert post_webhook(lorawan, "cs3-city", body, event="up").json()["status"] == "stored"
    assert post_webhook(lorawan, "cs3-city", body, event="up").json()["status"] == "duplicate"
    rejoined = copy.deepcopy(body)
    rejoined["devAddr"] = base64.b64encode(bytes.fromhex("01ABCDEF")).decode()
    rejoined["rxInfo"][0]["time"] = "2026-11-14T08:00:00Z"
    assert post_webhook(lorawan, "cs3-city", rejoined, event="up").json()["status"] == "stored"
    assert [o["result"] for o in observations(lorawan, device["mapping"]["fill_level"])] == [61, 61]


def test_chirpstack_http_integration_uplinks_and_status_events(lorawan):
    device = add_device(lorawan, dev_eui=CS_EUI, fields=["laeq", "lamax"])
    stored = post_webhook(lorawan, "cs-city", fixture("chirpstack_up"), event="up")
    assert stored.json() == {"status": "stored", "observations": 2}
    assert [o["result"] for o in observations(lorawan, device["mapping"]["laeq"])] == [58.5]

    status = post_webhook(lorawan, "cs-city", fixture("chirpstack_status"), event="status")
    assert status.status_code == 200
    assert status.json()["status"] == "event"
    shown = lorawan.get(f"/api/admin/lorawan/devices/{CS_EUI}", headers=lorawan.admin).json()
    assert (shown["battery"], shown["margin"]) == (87.5, 7)

    join = post_webhook(lorawan, "cs-city", fixture("chirpstack_join"), event="join")
    assert join.json() == {"status": "event", "observations": 0, "detail": "join"}
    assert len(observations(lorawan, device["mapping"]["laeq"])) == 1


def test_webhook_errors_are_json_and_say_what_is_wrong(lorawan):
    body = fixture("tts_uplink_mqtt")
    wrong = post_webhook(lorawan, "ttn-city", body, secret="guess")
    assert wrong.status_code == 401
    assert "X-Cityhub-Secret" in wrong.json()["message"]
    assert post_webhook(lorawan, "ttn-city", body, secret=None).status_code == 401
    unknown = post_webhook(lorawan, "nowhere", body)
    assert unknown.status_code == 404
    assert "nowhere" in unknown.json()["message"]
    bad_eui = {"end_device_ids": {"dev_eui": "zz"}, "uplink_message": {}}
    malformed = post_webhook(lorawan, "ttn-city", bad_eui)
    assert malformed.status_code == 400
    assert malformed.json()["code"] == 400
    assert "end_device_ids.dev_eui" in malformed.json()["message"]
    assert [letter["reason"][:9] for letter in dead_letters(lorawan)] == ["malformed"]


def test_unknown_device_is_a_dead_letter_until_registered_and_retried(lorawan):
    kept = post_webhook(lorawan, "ttn-city", fixture("tts_uplink_mqtt"))
    assert kept.status_code == 202
    assert kept.json()["status"] == "dead"
    (letter,) = dead_letters(lorawan)
    assert letter["dev_eui"] == TTS_EUI
    assert "unknown device" in letter["reason"]
    assert letter["id"] == kept.json()["dead_letter"]
    shown = lorawan.get(f"/api/admin/lorawan/dead-letters/{letter['id']}", headers=lorawan.admin)
    assert '"f_cnt": 4711' in shown.json()["payload"]

    device = _tts_device(lorawan)
    retried = lorawan.post(f"/api/admin/lorawan/dead-letters/{letter['id']}/retry")
    assert retried.json() == {"status": "stored", "observations": 3}
    assert dead_letters(lorawan) == []
    assert [o["result"] for o in observations(lorawan, device["mapping"]["humidity"])] == [27]
    again = lorawan.post(f"/api/admin/lorawan/dead-letters/{letter['id']}/retry")
    assert again.status_code == 404


def test_a_decoder_error_is_kept_and_stored_after_the_decoder_is_fixed(lorawan):
    body = fixture("tts_uplink_mqtt")
    del body["uplink_message"]["decoded_payload"]
    body["uplink_message"]["frm_payload"] = base64.b64encode(bytes.fromhex("0100E2")).decode()
    device = add_device(lorawan, dev_eui=TTS_EUI, decoder="dragino-lht65", fields=["temperature"])
    dead = post_webhook(lorawan, "ttn-city", body)
    assert dead.status_code == 202
    (letter,) = dead_letters(lorawan)
    assert "decoder 'dragino-lht65'" in letter["reason"]

    fixed = lorawan.patch(f"/api/admin/lorawan/devices/{TTS_EUI}", {"decoder": "elsys"})
    assert fixed.status_code == 200, fixed.text
    retry_all = lorawan.post("/api/admin/lorawan/dead-letters/retry")
    assert retry_all.json() == {"retried": 1, "stored": 1}
    assert [o["result"] for o in observations(lorawan, device["mapping"]["temperature"])] == [22.6]


def test_a_value_outside_the_declared_range_is_a_dead_letter(lorawan):
    device = _tts_device(lorawan)
    hot = tts_uplink(decoded={"temperature": 99.5, "humidity": 20})
    response = post_webhook(lorawan, "ttn-city", hot)
    assert response.status_code == 202
    (letter,) = dead_letters(lorawan)
    assert "above the declared range maximum 85" in letter["reason"]
    # Nothing of the uplink is stored: a retry after fixing the range stores all of it.
    assert observations(lorawan, device["mapping"]["humidity"]) == []
    failed = lorawan.post(f"/api/admin/lorawan/dead-letters/{letter['id']}/retry").json()
    assert failed["status"] == "dead"
    assert dead_letters(lorawan)[0]["attempts"] == 2
    assert lorawan.delete(f"/api/admin/lorawan/dead-letters/{letter['id']}").status_code == 204
    assert dead_letters(lorawan) == []


def test_auto_provisioning_creates_thing_and_datastreams_in_a_restricted_dataset(
    backend_settings, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    hub = lorawan_hub(
        backend_settings,
        integration("ttn-auto", "ttn", auto_provision=True, dataset="schulen", decoder="elsys"),
    )
    try:
        created = hub.post(
            "/api/admin/datasets",
            {
                "slug": "schulen",
                "title": "Schulen",
                "licence": "dl-by-de/2.0",
                "visibility": "restricted",
            },
        )
        assert created.status_code == 201, created.text
        body = fixture("tts_uplink_mqtt")
        del body["uplink_message"]["decoded_payload"]
        payload = bytes.fromhex("0100E202290400270506060308070D62")
        body["uplink_message"]["frm_payload"] = base64.b64encode(payload).decode()
        response = post_webhook(hub, "ttn-auto", body)
        assert response.json() == {"status": "stored", "observations": 6}

        device = hub.get(f"/api/admin/lorawan/devices/{TTS_EUI}", headers=hub.admin).json()
        assert device["name"] == "air-quality-07"
        assert sorted(device["mapping"]) == [
            "co2",
            "humidity",
            "light",
            "motion",
            "temperature",
            "vdd",
        ]
        co2 = hub.get(f"{V}/Datastreams({device['mapping']['co2']})", headers=hub.admin).json()
        assert co2["unitOfMeasurement"]["symbol"] == "ppm"
        assert [o["result"] for o in observations(hub, device["mapping"]["co2"], **hub.admin)] == [
            776
        ]
        # Restricted: invisible without a token that may read the dataset.
        assert hub.get(f"{V}/Things({device['thing_id']})").status_code == 404
        assert (
            hub.get(f"{V}/Datastreams({device['mapping']['co2']})/Observations").status_code == 404
        )
        assert hub.get(f"{V}/Things({device['thing_id']})", headers=hub.admin).status_code == 200
    finally:
        hub.close()


def test_auto_provisioning_into_a_missing_dataset_is_a_dead_letter(backend_settings, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    hub = lorawan_hub(
        backend_settings, integration("ttn-auto", "ttn", auto_provision=True, dataset="nirgends")
    )
    try:
        response = post_webhook(hub, "ttn-auto", fixture("tts_uplink_mqtt"))
        assert response.status_code == 202
        assert "auto-provisioning failed: no dataset 'nirgends'" in response.json()["detail"]
        assert hub.get(f"{V}/Things", headers=hub.admin).json()["value"] == []
    finally:
        hub.close()


def test_device_registry_through_the_admin_api(lorawan):
    assert lorawan.get("/api/admin/lorawan/devices").status_code == 401
    device = add_device(
        lorawan,
        dev_eui="70-B3-D5-7E-D0-06-1A-2C",
        name="co2-schule",
        decoder="elsys",
        location={"type": "Point", "coordinates": [7.08, 51.17]},
        fields={"co2": {"range": [0, 10000]}},
    )
    assert device["dev_eui"] == TTS_EUI
    assert list(device["mapping"]) == ["co2"]
    location = lorawan.get(f"{V}/Things({device['thing_id']})/Locations").json()["value"]
    assert location[0]["location"]["coordinates"] == [7.08, 51.17]
    listed = lorawan.get("/api/admin/lorawan/devices", headers=lorawan.admin).json()
    assert [d["dev_eui"] for d in listed] == [TTS_EUI]
    twice = lorawan.post("/api/admin/lorawan/devices", {"dev_eui": TTS_EUI})
    assert twice.status_code == 409
    bad = lorawan.post("/api/admin/lorawan/devices", {"dev_eui": "xyz"})
    assert bad.status_code == 400
    assert "dev_eui" in bad.json()["message"]
    unknown_decoder = lorawan.post(
        "/api/admin/lorawan/devices", {"dev_eui": CS_EUI, "decoder": "acme"}
    )
    assert unknown_decoder.status_code == 400
    assert "unknown decoder 'acme'" in unknown_decoder.json()["message"]
    no_eui = lorawan.post("/api/admin/lorawan/devices", {"name": "ohne DevEUI"})
    assert no_eui.status_code == 400
    assert "dev_eui" in no_eui.json()["message"]
    renamed = lorawan.patch(f"/api/admin/lorawan/devices/{TTS_EUI}", {"name": 5})
    assert renamed.status_code == 400
    assert renamed.json()["message"] == "name must be a text"

    removed = lorawan.delete(f"/api/admin/lorawan/devices/{TTS_EUI}", params={"with_thing": True})
    assert removed.status_code == 204
    assert lorawan.get(f"{V}/Things({device['thing_id']})").status_code == 404
    missing = lorawan.get(f"/api/admin/lorawan/devices/{TTS_EUI}", headers=lorawan.admin)
    assert missing.status_code == 404


def test_integrations_are_listed_without_secrets(lorawan):
    listed = lorawan.get("/api/admin/lorawan/integrations", headers=lorawan.admin).json()
    assert [i["name"] for i in listed] == ["ttn-city", "cs-city", "cs3-city"]
    assert listed[0]["webhook"] == "/ingest/lorawan/ttn-city"
    assert SECRET not in str(listed)


def test_a_deleted_datastream_makes_its_field_a_dead_letter_not_an_error(lorawan):
    device = _tts_device(lorawan)
    assert post_webhook(lorawan, "ttn-city", fixture("tts_uplink_mqtt")).status_code == 200
    humidity = device["mapping"]["humidity"]
    assert lorawan.delete(f"{V}/Datastreams({humidity})").status_code == 200
    response = post_webhook(lorawan, "ttn-city", tts_uplink(f_cnt=4712, correlation="NEXT"))
    assert response.status_code == 202
    assert f"its Datastream({humidity}) no longer exists" in response.json()["detail"]
    temperature = observations(lorawan, device["mapping"]["temperature"])
    assert len(temperature) == 1  # nothing of the uplink was stored
