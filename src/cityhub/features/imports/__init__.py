"""Imports of feature collections from GeoJSON, CSV and XLSX files.

Readers turn a file into :class:`SourceRow` records (or :class:`Rejected` ones, with the line
and the reason) without touching the database; :mod:`cityhub.features.imports.run` writes them
into a collection through :mod:`cityhub.features.write`.
"""

from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import Rejected, SourceRow
from cityhub.features.imports.sources import ImportSourceError, open_reader

__all__ = ["ImportOptions", "ImportSourceError", "Rejected", "SourceRow", "open_reader"]
