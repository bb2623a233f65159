"""The ingest hot path: Observations POSTed together are created in one batch.

The writer is held while the requests queue up, so they are committed as one batch; the
invalid ones must fail alone and leave nothing behind.
"""

from __future__ import annotations

from .helpers import V, create_thing, datastream_body, location_body, post_together


def test_a_batch_of_observations_is_created_with_feature_and_times(hub):
    seeded = create_thing(hub, datastreams=[datastream_body("a"), datastream_body("b")])
    first, second = seeded.datastreams
    bodies = [
        {
            "result": i,
            "phenomenonTime": f"2026-11-26T10:{i:02d}:00Z",
            "Datastream": {"@iot.id": first if i % 2 else second},
        }
        for i in range(20)
    ]
    responses = post_together(hub, f"{V}/Observations", bodies)
    assert [r.status_code for r in responses] == [201] * 20
    created = [r.json() for r in responses]
    assert [o["result"] for o in created] == list(range(20))
    assert len({o["@iot.id"] for o in created}) == 20
    assert all(
        r.headers["location"].endswith(f"Observations({o['@iot.id']})")
        for r, o in zip(responses, created, strict=True)
    )
    features = hub.get(f"{V}/FeaturesOfInterest", params={"$count": "true"}).json()
    assert features["@iot.count"] == 1  # derived once from the Thing's Location, then reused
    times = hub.get(f"{V}/Datastreams({first})").json()["phenomenonTime"]
    assert times == "2026-11-26T10:01:00Z/2026-11-26T10:19:00Z"


def test_invalid_observations_in_a_batch_fail_alone(hub):
    seeded = create_thing(hub, datastreams=[datastream_body("a")])
    datastream = seeded.datastreams[0]
    before = hub.get(f"{V}/Observations", params={"$count": "true", "$top": "0"}).json()
    good = [{"result": 1.5, "Datastream": {"@iot.id": datastream}} for _ in range(5)]
    bad = [
        {"result": "not a number", "Datastream": {"@iot.id": datastream}},
        {"result": 2.0, "Datastream": {"@iot.id": 999999}},
        {"result": 3.0, "phenomenonTime": "yesterday", "Datastream": {"@iot.id": datastream}},
    ]
    responses = post_together(hub, f"{V}/Observations", good[:2] + bad + good[2:])
    codes = [r.status_code for r in responses]
    assert codes == [201, 201, 400, 400, 400, 201, 201, 201]
    assert "OM_Measurement" in responses[2].json()["message"]
    assert "Datastream(999999)" in responses[3].json()["message"]
    assert "phenomenonTime" in responses[4].json()["message"]
    after = hub.get(f"{V}/Observations", params={"$count": "true", "$top": "0"}).json()
    assert after["@iot.count"] == before["@iot.count"] + 5


def test_each_thing_gets_the_feature_of_its_own_location(hub):
    """Several Things: every Observation's feature comes from its own Thing's Location."""
    first = create_thing(hub, "first", [datastream_body("a")], location_body("A", (7.01, 51.01)))
    second = create_thing(hub, "second", [datastream_body("b")], location_body("B", (7.02, 51.02)))
    for seeded, point in ((first, [7.01, 51.01]), (second, [7.02, 51.02])):
        datastream = seeded.datastreams[0]
        alone = hub.post(
            f"{V}/Observations", {"result": 1.0, "Datastream": {"@iot.id": datastream}}
        )
        assert alone.status_code == 201, alone.text
        batch = post_together(
            hub, f"{V}/Observations", [{"result": 2.0, "Datastream": {"@iot.id": datastream}}] * 3
        )
        for response in [alone, *batch]:
            observation_id = response.json()["@iot.id"]
            feature = hub.get(f"{V}/Observations({observation_id})/FeatureOfInterest").json()
            assert feature["feature"]["coordinates"] == point, feature
        area = hub.get(f"{V}/Datastreams({datastream})").json()["observedArea"]
        assert area == {"type": "Point", "coordinates": point}
