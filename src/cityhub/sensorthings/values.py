"""Request-body values to column values, validated against the entity model."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from cityhub.errors import BadRequest
from cityhub.geometry import GeometryError, geojson_text, wgs84_geometry
from cityhub.sensorthings.model import (
    GEOJSON_ENCODINGS,
    OBSERVATION_TYPE_BASE,
    EntityType,
    Kind,
    Property,
)
from cityhub.store import schema
from cityhub.timeutil import parse_instant, parse_time

T = TypeVar("T")


def column_values(entity: EntityType, prop: Property, value: Any) -> dict[str, Any]:
    """The columns of ``prop`` for a body value; 400 with the property's name if invalid."""
    where = f"{entity.name}.{prop.name}"
    if value is None:
        if prop.required:
            raise BadRequest(f"{where} is required and may not be null")
        return dict.fromkeys(prop.columns)
    if _has_nul(value):
        raise BadRequest(f"{where} contains a NUL character (\\u0000), which cannot be stored")
    if prop.items is not None:
        return {prop.column: _checked_items(where, prop, value)}
    kind = prop.kind
    if kind is Kind.TEXT:
        return {prop.column: _checked_text(where, prop, value)}
    if kind is Kind.OBJECT:
        if not isinstance(value, dict):
            raise BadRequest(f"{where} must be a JSON object, got {_json_type(value)}")
        return {prop.column: value}
    if kind is Kind.ANY:
        return {prop.column: value}
    if kind is Kind.INSTANT:
        return {prop.column: _parsed_time(where, parse_instant, value)}
    if kind in (Kind.INTERVAL, Kind.TIME):
        time = _parsed_time(where, parse_time, value)
        if kind is Kind.INTERVAL and not time.is_interval:
            raise BadRequest(f"{where} must be an interval 'start/end', got '{value}'")
        start_column, end_column = prop.columns
        return {start_column: time.start, end_column: time.end}
    if kind is Kind.GEOMETRY:
        return {prop.column: value}
    if kind is Kind.RESULT:
        return result_columns(value)
    raise AssertionError(kind)


def _checked_text(where: str, prop: Property, value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string, got {_json_type(value)}")
    allowed = prop.allowed
    if allowed is not None and value not in allowed:
        choices = ", ".join(sorted(allowed))
        if len(allowed) > 1:
            choices = f"one of {choices}"
        raise BadRequest(f"{where} must be {choices}, got '{value}'")
    return value


def _checked_items(where: str, prop: Property, value: Any) -> list[Any]:
    """A JSON array whose items are objects or (allowed) strings, as ``prop.items`` says."""
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be a JSON array, got {_json_type(value)}")
    for index, item in enumerate(value):
        if prop.items is Kind.TEXT:
            _checked_text(f"{where}[{index}]", prop, item)
        elif not isinstance(item, dict):
            raise BadRequest(f"{where}[{index}] must be a JSON object, got {_json_type(item)}")
    return value


def _parsed_time(where: str, parse: Callable[[str], T], value: Any) -> T:
    """``parse(value)``, with errors naming the property, e.g. ``Observation.resultTime``."""
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be an ISO 8601 time string, got {_json_type(value)}")
    try:
        return parse(value)
    except BadRequest as exc:
        raise BadRequest(f"{where}: {exc.message}") from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def result_columns(value: Any) -> dict[str, Any]:
    """An Observation result in its typed columns (see ``schema.observations``)."""
    columns: dict[str, Any] = {
        "result_type": schema.RESULT_JSON,
        "result_number": None,
        "result_string": None,
        "result_json": None,
    }
    if value is None:
        columns["result_type"] = schema.RESULT_NULL
    elif isinstance(value, bool):
        columns.update(result_type=schema.RESULT_BOOLEAN, result_json=value)
    elif isinstance(value, int) and abs(value) <= 2**53:
        columns.update(result_type=schema.RESULT_INTEGER, result_number=value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadRequest("Observation.result must be a finite number")
        columns.update(result_type=schema.RESULT_FLOAT, result_number=value)
    elif isinstance(value, str):
        columns.update(result_type=schema.RESULT_STRING, result_string=value)
    else:
        columns["result_json"] = value
    return columns


_RESULT_CHECKS = {
    "OM_Measurement": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "a number",
    ),
    "OM_CountObservation": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "OM_TruthObservation": (lambda v: isinstance(v, bool), "a boolean"),
    "OM_CategoryObservation": (lambda v: isinstance(v, str), "a string (a category URI)"),
}


def check_result(
    observation_type: str,
    value: Any,
    where: str = "Observation.result",
    of: str = "a Datastream of observationType",
) -> None:
    """The result type follows the Datastream's observationType; OM_Observation allows any."""
    short = observation_type.removeprefix(OBSERVATION_TYPE_BASE)
    check = _RESULT_CHECKS.get(short)
    if check is not None and not check[0](value):
        raise BadRequest(f"{where} must be {check[1]} for {of} {short}, got {_json_type(value)}")


def check_multi_result(data_types: list[str], value: Any) -> None:
    """A MultiDatastream's result: an array of one value per ObservedProperty, in their
    order, each fitting the multiObservationDataType at its place (clause 12)."""
    if not isinstance(value, list):
        raise BadRequest(
            "Observation.result must be a JSON array for a MultiDatastream (one value per "
            f"ObservedProperty), got {_json_type(value)}"
        )
    if len(value) != len(data_types):
        raise BadRequest(
            f"Observation.result has {len(value)} values but its MultiDatastream has "
            f"{len(data_types)} multiObservationDataTypes (one per ObservedProperty)"
        )
    for index, (data_type, element) in enumerate(zip(data_types, value, strict=True)):
        check_result(data_type, element, f"Observation.result[{index}]", "multiObservationDataType")


def geometry_of(where: str, encoding_type: str, value: Any) -> str:
    """GeoJSON text of the geometry in a Location's location or a feature's ``feature``."""
    if encoding_type not in GEOJSON_ENCODINGS:
        allowed = " or ".join(sorted(GEOJSON_ENCODINGS))
        raise BadRequest(f"{where}: encodingType must be {allowed}, got '{encoding_type}'")
    geometry = value
    if isinstance(value, dict) and value.get("type") == "Feature":
        geometry = value.get("geometry")
    try:
        return geojson_text(wgs84_geometry(geometry))
    except GeometryError as exc:
        raise BadRequest(f"{where} {exc}") from None
