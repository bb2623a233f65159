"""``cityhub.feature('collection', key-or-id)`` in ``$filter`` and ``$orderby``: a feature of
an OGC API – Features collection used as a geometry, e.g. "the Things in this district":
``st_within(Thing/Locations/location, cityhub.feature('stadtbezirke', '17'))``.

Each reference is looked up once per request, with the reader's access rule, and replaced by
its geometry as a literal before translation, so the query is written as if the client had
sent the district's geometry itself (and SQLite's R*Tree finds the candidates). A reference
to nothing the reader may see — an unknown or hidden collection, a gone or missing feature —
becomes no geometry: every function of it is NULL, so it matches nothing and reveals nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from cityhub.errors import BadRequest
from cityhub.features.reads import named_geometry
from cityhub.sensorthings.odata import BinaryOp, Call, GeoLiteral, Literal, Node, UnaryOp
from cityhub.sensorthings.options import Expand, OrderBy, QueryOptions
from cityhub.store.access import Hidden

FUNCTION = "cityhub.feature"

Lookup = Callable[[str, str | int], dict[str, Any] | None]


def resolve_places(connection: Connection, options: QueryOptions, hidden: Hidden) -> QueryOptions:
    """``options`` with every ``cityhub.feature(…)`` replaced by the feature's geometry; the
    same object when there is none (the common case costs one walk of the tree)."""
    if not _mentions(options):
        return options
    found: dict[tuple[str, str | int], dict[str, Any] | None] = {}

    def lookup(slug: str, reference: str | int) -> dict[str, Any] | None:
        if (slug, reference) not in found:
            found[slug, reference] = named_geometry(connection, slug, reference, hidden)
        return found[slug, reference]

    return _options(options, lookup)


def _options(options: QueryOptions, lookup: Lookup) -> QueryOptions:
    changes: dict[str, Any] = {}
    if options.filter is not None:
        changes["filter"] = _node(options.filter, lookup)
    if options.orderby:
        changes["orderby"] = tuple(
            OrderBy(_node(key.expr, lookup), key.descending) for key in options.orderby
        )
    if options.expand:
        changes["expand"] = tuple(
            Expand(item.path, _options(item.options, lookup)) for item in options.expand
        )
    return replace(options, **changes)


def _node(node: Node, lookup: Lookup) -> Node:
    if isinstance(node, Call):
        if node.name == FUNCTION:
            return Literal(GeoLiteral(lookup(*_reference(node)), "geometry"), node.pos)
        return replace(node, args=tuple(_node(arg, lookup) for arg in node.args))
    if isinstance(node, BinaryOp):
        return replace(node, left=_node(node.left, lookup), right=_node(node.right, lookup))
    if isinstance(node, UnaryOp):
        return replace(node, operand=_node(node.operand, lookup))
    return node


def _reference(call: Call) -> tuple[str, str | int]:
    """The collection id and the feature's key (text) or id (a whole number)."""
    collection, feature = call.args
    if not (isinstance(collection, Literal) and isinstance(collection.value, str)):
        raise BadRequest(
            f"the first argument of {FUNCTION}() at position {call.pos} is a collection id "
            "in quotes, e.g. cityhub.feature('stadtbezirke', '17')"
        )
    value = feature.value if isinstance(feature, Literal) else None
    if (
        isinstance(value, bool)
        or not isinstance(value, str | int)
        or (isinstance(value, int) and not 0 <= value < 2**63)
    ):
        raise BadRequest(
            f"the second argument of {FUNCTION}() at position {call.pos} is the feature's key "
            "in quotes ('17') or its id as a whole number (17)"
        )
    return collection.value, value


def _mentions(options: QueryOptions) -> bool:
    nodes = [options.filter, *(key.expr for key in options.orderby)]
    return any(node is not None and _calls(node) for node in nodes) or any(
        _mentions(item.options) for item in options.expand
    )


def _calls(node: Node) -> bool:
    if isinstance(node, Call):
        return node.name == FUNCTION or any(_calls(arg) for arg in node.args)
    if isinstance(node, BinaryOp):
        return _calls(node.left) or _calls(node.right)
    if isinstance(node, UnaryOp):
        return _calls(node.operand)
    return False
