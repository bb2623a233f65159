"""Triples as Turtle, JSON-LD and RDF/XML.

rdflib's own Turtle and JSON-LD serialisers sort and nest the whole graph first: 6 s and 1 s
for the ~150,000 triples of a 1,000-dataset catalog. Here Turtle and (flattened) JSON-LD are
written in one pass over the triples grouped by subject; RDF/XML, asked for rarely, goes
through rdflib. The tests parse every serialisation with rdflib.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from rdflib import BNode, Graph, Literal, URIRef

from cityhub.catalog.dcat import PREFIXES, RDF, Blank, Iri, Lit, Triple

#: Media type of each serialisation, and the suffix that asks for it.
MEDIA_TYPES = {
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
#: How people call each serialisation (the portal's links).
TITLES = {"ttl": "Turtle", "rdf": "RDF/XML", "jsonld": "JSON-LD"}
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))


def render(triples: Callable[[], list[Triple]], suffix: str) -> bytes:
    """The triples ``triples()`` makes, serialised, with the cyclic garbage collector paused.

    A catalog is some 150 triples per dataset, all new objects that hold no cycles: with the
    collector running, its passes over them took as long as the writing (0.3 s of 0.6 s for
    1,000 datasets). It runs again right after, as it would have anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return serialise(triples(), suffix)
    finally:
        if enabled:
            gc.enable()


def serialise(triples: list[Triple], suffix: str) -> bytes:
    if suffix == "ttl":
        return turtle(triples).encode()
    if suffix == "jsonld":
        return json_ld(triples)
    return rdf_xml(triples)


def _grouped(triples: Iterable[Triple]) -> dict[Any, dict[Any, list[Any]]]:
    subjects: dict[Any, dict[Any, list[Any]]] = {}
    for subject, predicate, value in triples:
        subjects.setdefault(subject, {}).setdefault(predicate, []).append(value)
    return subjects


# --- Turtle ----------------------------------------------------------------------------------


def turtle(triples: list[Triple]) -> str:
    names: dict[str, str] = {}
    parts = [f"@prefix {prefix}: <{iri}> .\n" for prefix, iri in PREFIXES.items()]
    for subject, predicates in _grouped(triples).items():
        lines = []
        for predicate, values in predicates.items():
            verb = "a" if predicate == RDF.type else _name(predicate, names)
            lines.append(f"{verb} {', '.join(_term(value, names) for value in values)}")
        parts.append(f"\n{_term(subject, names)}\n    " + " ;\n    ".join(lines) + " .\n")
    return "".join(parts)


def _name(iri: str, names: dict[str, str]) -> str:
    """A prefixed name where a prefix fits, else the IRI in brackets (remembered)."""
    found = names.get(iri)
    if found is None:
        found = f"<{iri}>"
        for prefix, namespace in _BY_LENGTH:
            if iri.startswith(namespace) and _LOCAL.fullmatch(iri[len(namespace) :]):
                found = f"{prefix}:{iri[len(namespace) :]}"
                break
        names[iri] = found
    return found


def _term(value: Any, names: dict[str, str]) -> str:
    kind = type(value)
    if kind is Iri:
        return _name(value, names)
    if kind is Blank:
        return f"_:{value}"
    text = f'"{value.value.translate(_ESCAPES)}"'
    return f"{text}^^{_name(value.datatype, names)}" if value.datatype else text


# --- JSON-LD ---------------------------------------------------------------------------------


def json_ld(triples: list[Triple]) -> bytes:
    """Flattened JSON-LD: one node object per subject, full IRIs, no context to resolve."""
    nodes = []
    for subject, predicates in _grouped(triples).items():
        node: dict[str, Any] = {"@id": _node_id(subject)}
        for predicate, values in predicates.items():
            if predicate == RDF.type:
                node["@type"] = [str(value) for value in values]
            else:
                node[str(predicate)] = [_json_value(value) for value in values]
        nodes.append(node)
    return orjson.dumps({"@graph": nodes})


def _node_id(value: Any) -> str:
    return f"_:{value}" if type(value) is Blank else str(value)


def _json_value(value: Any) -> dict[str, Any]:
    if type(value) is not Lit:
        return {"@id": _node_id(value)}
    if value.datatype:
        return {"@value": value.value, "@type": value.datatype}
    return {"@value": value.value}


# --- RDF/XML ---------------------------------------------------------------------------------


def rdf_xml(triples: list[Triple]) -> bytes:
    return to_graph(triples).serialize(format="xml", encoding="utf-8")


def to_graph(triples: list[Triple]) -> Graph:
    """The triples as an rdflib graph, with the catalog's prefixes."""
    graph = Graph(bind_namespaces="none")
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri)
    graph.addN((_rdflib(s), URIRef(p), _rdflib(o), graph) for s, p, o in triples)
    return graph


def _rdflib(value: Any) -> Any:
    kind = type(value)
    if kind is Iri:
        return URIRef(value)
    if kind is Blank:
        return BNode(value)
    return Literal(value.value, datatype=URIRef(value.datatype) if value.datatype else None)
