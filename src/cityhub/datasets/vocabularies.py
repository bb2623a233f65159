"""The controlled vocabularies a German open-data catalog expects of a dataset.

Licences are the DCAT-AP.de licence URIs (GovData harvests nothing else); themes, update
frequencies and high-value-dataset categories are the EU Publications Office authority
tables. Clients may give the short key or the full URI; the store keeps the URI.
"""

from __future__ import annotations

LICENCES: dict[str, tuple[str, str]] = {
    # key: (URI, title)
    "dl-by-de/2.0": (
        "http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        "Datenlizenz Deutschland – Namensnennung – Version 2.0",
    ),
    "dl-zero-de/2.0": (
        "http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
        "Datenlizenz Deutschland – Zero – Version 2.0",
    ),
    "cc-by/4.0": (
        "http://dcat-ap.de/def/licenses/cc-by/4.0",
        "Creative Commons Namensnennung – 4.0 International (CC BY 4.0)",
    ),
    "cc-zero": (
        "http://dcat-ap.de/def/licenses/cc-zero",
        "Creative Commons CC Zero License (cc-zero)",
    ),
    # OpenStreetMap's licence, for data harvested from it.
    "odbl": (
        "http://dcat-ap.de/def/licenses/odbl",
        "Open Data Commons Open Database License (ODbL)",
    ),
}

_THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
THEMES: dict[str, str] = {
    code: _THEME_BASE + code
    for code in (
        "AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL",
        "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN",
    )
}  # fmt: skip

_FREQUENCY_BASE = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCIES: dict[str, str] = {
    code: _FREQUENCY_BASE + code
    for code in (
        "UPDATE_CONT", "CONT", "1MIN", "5MIN", "10MIN", "15MIN", "30MIN", "HOURLY",
        "DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL", "IRREG", "NEVER", "UNKNOWN",
    )
}  # fmt: skip

_HVD_BASE = "http://data.europa.eu/bna/"
HVD_CATEGORIES: dict[str, str] = {
    "geospatial": _HVD_BASE + "c_ac64a52d",
    "earth-observation-and-environment": _HVD_BASE + "c_dd313021",
    "meteorological": _HVD_BASE + "c_164e0bf5",
    "statistics": _HVD_BASE + "c_e1da4e07",
    "companies": _HVD_BASE + "c_a9135398",
    "mobility": _HVD_BASE + "c_b79e35eb",
}


def to_uri(value: str, table: dict[str, str], what: str) -> str:
    """The URI for a short key (case-insensitive) or a URI of ``table``; ValueError else."""
    if value in table.values():
        return value
    for key, uri in table.items():
        if key.lower() == value.lower():
            return uri
    raise ValueError(f"unknown {what} '{value}'; use one of: {', '.join(table)}")


def key_of(uri: str | None, table: dict[str, str]) -> str | None:
    """The short key of a URI of ``table`` (for naming it in words), or None."""
    return next((key for key, known in table.items() if known == uri), None)


def licence_uri(value: str) -> str:
    return to_uri(value, {key: uri for key, (uri, _) in LICENCES.items()}, "licence")


def licence_title(uri: str) -> str | None:
    return next((title for known, title in LICENCES.values() if known == uri), None)
