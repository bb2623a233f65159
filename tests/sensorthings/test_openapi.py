"""The API docs describe the SensorThings face, derived from the entity model."""

from openapi_spec_validator import validate

from cityhub.catalog.ckan_api import ACTIONS
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


def test_openapi_lists_the_catalog_and_every_ckan_action(sqlite_hub):
    document = sqlite_hub.get("/api/openapi.json").json()
    validate(document)
    paths = document["paths"]
    for path in ("/catalog", "/catalog.{format}"):
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"page", "page_size", "If-None-Match"} <= names
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert set(content) == {"text/turtle", "application/rdf+xml", "application/ld+json"}
        assert "304" in paths[path]["get"]["responses"]
    formats = paths["/catalog.{format}"]["get"]["parameters"][0]
    assert formats["schema"]["enum"] == ["ttl", "rdf", "jsonld"]
    assert {"/catalog/datasets/{slug}", "/catalog/datasets/{slug}.{format}"} <= set(paths)
    for action in ACTIONS:
        for prefix in ("/api/3/action", "/api/action"):
            assert {"get", "post"} <= set(paths[f"{prefix}/{action}"])
    search = paths["/api/3/action/package_search"]["get"]
    names = {p["name"] for p in search["parameters"]}
    assert {"q", "fq", "rows", "start", "sort", "facet.field"} <= names
    assert "application/json" in search["responses"]["200"]["content"]
    # The actions the document lists are answered.
    for action in ACTIONS:
        if action not in ("package_show", "organization_show"):
            answer = sqlite_hub.get(f"/api/3/action/{action}")
            assert answer.json()["success"] is True, (action, answer.text)
