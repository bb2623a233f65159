"""Request bodies of OGC API – Features Part 4: a GeoJSON Feature checked into a
``FeatureRecord``, and a JSON Merge Patch (RFC 7396) applied to a stored feature.

Every mistake is a 400 that names the member at fault; nothing here touches the database.
"""

from __future__ import annotations

from typing import Any

from cityhub.errors import BadRequest
from cityhub.features import crs
from cityhub.features.write import FeatureRecord, GeometryError, check_geometry
from cityhub.geometry import GEOMETRY_TYPES


def record_from_body(
    body: Any,
    key_property: str | None,
    content_crs: str = crs.CRS84,
    *,
    feature_id: int | None = None,
    thing_id: int | None = None,
) -> FeatureRecord:
    """The feature a create or replace body describes. ``feature_id``: the feature being
    replaced, which an ``id`` member must not contradict (a create ignores ``id``: the
    server names new features). ``thing_id`` keeps a live feature's link to its Thing."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise BadRequest(
            'the body must be one GeoJSON Feature: {"type": "Feature", "geometry": {...}, '
            '"properties": {...}}'
        )
    if feature_id is not None and "id" in body and str(body["id"]) != str(feature_id):
        raise BadRequest(
            f"'id' is {body['id']!r} but the URL names feature {feature_id}; a feature keeps its id"
        )
    properties = body.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise BadRequest("'properties' must be a JSON object (or null)")
    geometry = _geometry(body.get("geometry"), content_crs)
    key = _key(properties, key_property)
    return FeatureRecord(properties, geometry, key, thing_id=thing_id)


def _geometry(value: Any, content_crs: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if content_crs != crs.CRS84 and isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES:
        try:
            value = crs.transform_geometry(value, crs.to_storage(content_crs))
        except (TypeError, IndexError, KeyError, ValueError):
            raise BadRequest(f"'geometry' has malformed coordinates for {content_crs}") from None
    try:
        return check_geometry(value)
    except GeometryError as exc:
        raise BadRequest(f"'geometry' {exc}") from None


def _key(properties: dict[str, Any], key_property: str | None) -> str | None:
    """The feature's key: the value of the collection's key property, which it must have."""
    if key_property is None:
        return None
    value = properties.get(key_property)
    if value is None or value == "" or isinstance(value, dict | list):
        raise BadRequest(
            f"the collection identifies its features by the property '{key_property}': "
            "give it a text or number value"
        )
    return str(value)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: members of ``patch`` replace those of ``target``, ``null`` removes one,
    objects merge member by member; anything else replaces the whole."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def patched(current: dict[str, Any], patch: Any, feature_id: int) -> dict[str, Any]:
    """The feature document ``current`` (as stored) with the merge patch applied."""
    if not isinstance(patch, dict):
        raise BadRequest(
            'a merge patch is a JSON object, e.g. {"properties": {"free": 12, "note": null}}'
        )
    if "id" in patch and str(patch["id"]) != str(feature_id):
        raise BadRequest("'id' cannot be changed: a feature keeps its id")
    if "type" in patch and patch["type"] != "Feature":
        raise BadRequest("'type' stays 'Feature'")
    document = merge_patch(current, patch)
    document.setdefault("properties", {})
    return document
