"""The face's HTML encoding: plain, server-rendered pages that a screen reader reads in order
(one ``h1``, landmarks, tables with header cells), each page made from the JSON document
it stands for.
"""

from __future__ import annotations

from html import escape
from typing import Any

import orjson


def _page(title: str, body: str, links: list[dict[str, str]]) -> str:
    nav = "".join(
        f'<li><a href="{escape(one["href"])}">{escape(one.get("title") or one["rel"])}</a></li>'
        for one in links
        if one["rel"] not in ("self",)
    )
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} – cityhub</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}th,td{{border:1px solid #888;padding:.25rem .5rem;text-align:left;
vertical-align:top}}</style></head>
<body><header><nav aria-label="Links"><ul>{nav}</ul></nav></header>
<main><h1>{escape(title)}</h1>
{body}
</main></body></html>"""


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"<code>{escape(orjson.dumps(value).decode())}</code>"
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return f'<a href="{escape(value)}">{escape(value)}</a>'
    return escape("" if value is None else str(value))


def _table(caption: str, rows: dict[str, Any]) -> str:
    cells = "".join(
        f'<tr><th scope="row">{escape(str(name))}</th><td>{_value(value)}</td></tr>'
        for name, value in rows.items()
    )
    return f"<table><caption>{escape(caption)}</caption>{cells}</table>"


def landing(document: dict[str, Any]) -> str:
    body = f"<p>{escape(document['description'])}</p>"
    return _page(document["title"], body, document["links"])


def conformance(document: dict[str, Any]) -> str:
    items = "".join(f"<li>{escape(uri)}</li>" for uri in document["conformsTo"])
    return _page("Konformitätsklassen / Conformance", f"<ul>{items}</ul>", [])


def collections(document: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><a href="{escape(_href(one, "self"))}?f=html">{escape(one["id"])}</a></td>'
        f"<td>{escape(one['title'])}</td><td>{escape(one['description'])}</td></tr>"
        for one in document["collections"]
    )
    table = (
        "<table><caption>Sammlungen / Collections</caption><tr><th scope='col'>id</th>"
        f"<th scope='col'>Titel / Title</th><th scope='col'>Beschreibung</th></tr>{rows}</table>"
    )
    return _page("Sammlungen / Collections", table, document["links"])


def collection(document: dict[str, Any]) -> str:
    facts = {
        "id": document["id"],
        "Beschreibung / Description": document["description"],
        "Ausdehnung / Extent": document.get("extent"),
        "CRS": document["crs"],
    }
    return _page(document["title"], _table("Metadaten / Metadata", facts), document["links"])


def features(document: dict[str, Any], title: str) -> str:
    parts = [
        f"<p>{document.get('numberReturned', 0)} von / of {document.get('numberMatched', '?')}</p>"
    ]
    for one in document["features"]:
        heading = (
            f'<h2><a href="{escape(_href(one, "self"))}?f=html">{escape(str(one["id"]))}</a></h2>'
        )
        parts.append(heading + _table("Eigenschaften / Properties", _shown(one)))
    return _page(title, "\n".join(parts), document["links"])


def feature(document: dict[str, Any]) -> str:
    title = str(document["properties"].get("name") or document["id"])
    return _page(title, _table("Eigenschaften / Properties", _shown(document)), document["links"])


def _shown(feature: dict[str, Any]) -> dict[str, Any]:
    return {**feature["properties"], "geometry": feature["geometry"]}


def _href(document: dict[str, Any], rel: str) -> str:
    for one in document.get("links", []):
        if one["rel"] == rel:
            return str(one["href"]).split("?")[0]
    return ""


def collection_queryables(document: dict[str, Any]) -> str:
    rows = {name: schema.get("type", "geometry") for name, schema in document["properties"].items()}
    return _page(f"Abfragbar / Queryables: {document['title']}", _table("Queryables", rows), [])


def counts(document: dict[str, Any]) -> str:
    rows = {f"{one['id']} {one['title'] or ''}".strip(): one["count"] for one in document["counts"]}
    title = f"{document['collection']} je / per {document['within']}"
    return _page(title, _table("Anzahl / Count", rows), [])
