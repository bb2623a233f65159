"""The API docs describe the SensorThings face, derived from the entity model."""

from cityhub.sensorthings.model import ENTITY_TYPES


def test_openapi_lists_every_entity_set_and_schema(sqlite_hub):
    document = sqlite_hub.get("/api/openapi.json").json()
    for entity in ENTITY_TYPES:
        collection = document["paths"][f"/v1.1/{entity.set_name}"]
        assert {"get", "post"} <= set(collection)
        assert "security" in collection["post"]
        single = document["paths"][f"/v1.1/{entity.set_name}({{id}})"]
        assert {"get", "patch", "put", "delete"} <= set(single)
        schema = document["components"]["schemas"][entity.name]
        assert set(schema["required"]) == {p.name for p in entity.properties if p.required}
    observations = document["components"]["schemas"]["Datastream"]["properties"]["Observations"]
    assert observations["items"] == {"$ref": "#/components/schemas/Observation"}
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "security" in document["paths"]["/v1.1/CreateObservations"]["post"]


def test_api_docs_page_is_served(sqlite_hub):
    response = sqlite_hub.get("/api/docs")
    assert response.status_code == 200
    assert "/api/openapi.json" in response.text
