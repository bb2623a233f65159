"""OGC API – Features Part 3 filtering: the CQL2 language (text and JSON encodings).

``parse_text``/``parse_json`` build one syntax tree; ``to_sql`` turns it into a WHERE
condition over the queryables a resolver names; ``conformance_classes`` lists what is
implemented. See docs/cql2.md.
"""

from __future__ import annotations

from cityhub.features.cql2.json_encoding import parse_json
from cityhub.features.cql2.nodes import Node
from cityhub.features.cql2.queryables import Queryable, UnknownQueryable, resolver
from cityhub.features.cql2.text import parse_text
from cityhub.features.cql2.translate import to_sql

__all__ = [
    "Node",
    "Queryable",
    "UnknownQueryable",
    "conformance_classes",
    "parse_json",
    "parse_text",
    "resolver",
    "to_sql",
]

_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
_CLASSES = (
    "basic-cql2",
    "advanced-comparison-operators",
    "case-insensitive-comparison",
    "accent-insensitive-comparison",
    "basic-spatial-functions",
    "spatial-functions",
    "temporal-functions",
    "property-property",
    "arithmetic",
    "cql2-text",
    "cql2-json",
)


def conformance_classes() -> list[str]:
    """The CQL2 conformance classes this implementation meets, as OGC URIs."""
    return [_CQL2 + name for name in _CLASSES]
