"""XLSX worksheets, read row by row (openpyxl's read-only mode keeps memory flat)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Rejected, SourceRow
from cityhub.features.imports.tables import TableRows
from cityhub.features.imports.values import looks_like_decimal_comma


class XlsxReader:
    """Features from one worksheet of an XLSX workbook (the first, or ``options.sheet``)."""

    unit = "row"

    def __init__(self, data: bytes, options: ImportOptions) -> None:
        try:
            self._book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ImportSourceError(f"not an XLSX workbook ({exc})") from None
        sheet = self._sheet(options.sheet)
        self.total: int | None = sheet.max_row
        start = sheet.min_row or 1
        values = sheet.iter_rows(values_only=True)
        rows = ((start + i, list(cells)) for i, cells in enumerate(values))
        first = [next(rows, None) for _ in range(50)]
        sample = [row for row in first if row is not None]
        texts = [c for _, cells in sample for c in cells if isinstance(c, str)]
        decimal_comma = looks_like_decimal_comma(texts)
        self.table = TableRows(_chain(sample, rows), options, decimal_comma, unit="row")
        self.description = (
            f"XLSX, sheet '{sheet.title}', header in row {self.table.header_line}, "
            f"{self.table.geometry.describe(options.crs)}"
        )

    def _sheet(self, name: str | None) -> Any:
        if name is None:
            return self._book.worksheets[0]
        if name not in self._book.sheetnames:
            raise ImportSourceError(
                f"--sheet: no sheet '{name}'; the sheets are: {', '.join(self._book.sheetnames)}"
            )
        return self._book[name]

    def __iter__(self) -> Iterator[SourceRow | Rejected]:
        try:
            yield from self.table
        finally:
            self._book.close()


def _chain(
    first: list[tuple[int, list[Any]]], rest: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    yield from first
    yield from rest
