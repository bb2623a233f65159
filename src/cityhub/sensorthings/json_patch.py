"""JSON Patch (RFC 6902) updates (clause 10.3, ``update-entity-jsonpatch``).

A PATCH with ``Content-Type: application/json-patch+json`` carries a list of operations on
the entity's JSON. They are applied to the entity's current properties; the properties they
change become an ordinary PATCH, so every rule of a PATCH (types, geometry, derived state)
applies unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from cityhub.digits import is_digits
from cityhub.errors import BadRequest, Conflict
from cityhub.sensorthings.model import EntityType
from cityhub.sensorthings.serialize import property_value

MEDIA_TYPE = "application/json-patch+json"
_OPERATIONS = frozenset({"add", "remove", "replace", "move", "copy", "test"})
_MISSING = object()


def is_json_patch(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == MEDIA_TYPE


def as_merge_patch(entity: EntityType, row: Mapping[str, Any], operations: Any) -> dict[str, Any]:
    """The properties of the entity in ``row`` that ``operations`` change, with new values."""
    current = {p.name: property_value(p, row) for p in entity.properties}
    patched = apply(current, operations, entity.name)
    for name in current.keys() - patched.keys():
        patched[name] = None  # "remove" of a whole property resets it
    unknown = sorted(patched.keys() - current.keys())
    if unknown:
        raise BadRequest(
            f"JSON Patch: {entity.name} has no property '{unknown[0]}' (JSON Patch changes "
            "properties; link related entities with an application/json PATCH)"
        )
    return {name: value for name, value in patched.items() if not _equal(value, current[name])}


def apply(document: dict[str, Any], operations: Any, where: str) -> dict[str, Any]:
    """``document`` with ``operations`` applied in order (on a copy): all or nothing."""
    if not isinstance(operations, list):
        raise BadRequest("a JSON Patch body must be a JSON array of operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        _apply_one(result, operation, f"{where}: JSON Patch operation {index}")
    return result


def _apply_one(document: dict[str, Any], operation: Any, where: str) -> None:
    if not isinstance(operation, dict) or operation.get("op") not in _OPERATIONS:
        raise BadRequest(f"{where}: needs 'op', one of {', '.join(sorted(_OPERATIONS))}")
    op = operation["op"]
    path = _pointer(operation, "path", where)
    if op in ("add", "replace", "test") and "value" not in operation:
        raise BadRequest(f"{where}: '{op}' needs a 'value'")
    if op == "add":
        _add(document, path, copy.deepcopy(operation["value"]), where)
    elif op == "remove":
        _remove(document, path, where)
    elif op == "replace":
        _remove(document, path, where)
        _add(document, path, copy.deepcopy(operation["value"]), where)
    elif op == "test":
        if not _equal(_get(document, path, where), operation["value"]):
            raise Conflict(f"{where}: the value at '{operation['path']}' is not the tested one")
    else:
        source = _pointer(operation, "from", where)
        value = copy.deepcopy(_get(document, source, where))
        if op == "move":
            if path[: len(source)] == source and path != source:
                raise BadRequest(f"{where}: cannot move a value into itself")
            _remove(document, source, where)
        _add(document, path, value, where)


def _equal(left: Any, right: Any) -> bool:
    """JSON equality (RFC 6902, 4.6): numbers by value, but ``true`` is not ``1``."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if _is_number(left) and _is_number(right):
        return left == right
    return type(left) is type(right) and left == right


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pointer(operation: dict[str, Any], key: str, where: str) -> list[str]:
    """A JSON Pointer (RFC 6901) as its unescaped reference tokens; the root is not allowed."""
    text = operation.get(key)
    if not isinstance(text, str) or not text.startswith("/"):
        raise BadRequest(f"{where}: '{key}' must be a JSON Pointer such as '/name'")
    return [token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/")]


def _parent(document: Any, path: list[str], where: str) -> Any:
    container = document
    for token in path[:-1]:
        container = _child(container, token, where, path)
    return container


def _child(container: Any, token: str, where: str, path: list[str]) -> Any:
    if isinstance(container, dict) and token in container:
        return container[token]
    if isinstance(container, list):
        return container[_index(container, token, where, path, allow_end=False)]
    raise BadRequest(f"{where}: '/{'/'.join(path)}' does not exist")


def _index(items: list[Any], token: str, where: str, path: list[str], allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(items)
    limit = len(items) + (1 if allow_end else 0)
    if not is_digits(token) or (token != "0" and token.startswith("0")) or int(token) >= limit:
        raise BadRequest(f"{where}: '/{'/'.join(path)}' is not an index of the array")
    return int(token)


def _get(document: Any, path: list[str], where: str) -> Any:
    return _child(_parent(document, path, where), path[-1], where, path)


def _add(document: Any, path: list[str], value: Any, where: str) -> None:
    container = _parent(document, path, where)
    if isinstance(container, dict):
        container[path[-1]] = value
    elif isinstance(container, list):
        container.insert(_index(container, path[-1], where, path, allow_end=True), value)
    else:
        raise BadRequest(f"{where}: '/{'/'.join(path[:-1])}' is neither an object nor an array")


def _remove(document: Any, path: list[str], where: str) -> None:
    container = _parent(document, path, where)
    if isinstance(container, dict) and container.get(path[-1], _MISSING) is not _MISSING:
        del container[path[-1]]
    elif isinstance(container, list):
        del container[_index(container, path[-1], where, path, allow_end=False)]
    else:
        raise BadRequest(f"{where}: '/{'/'.join(path)}' does not exist")
