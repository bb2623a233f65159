"""CSV as German offices write it: Windows-1252 or UTF-8 (with or without BOM), semicolons,
decimal commas, a title and a date above the header. Each is detected, or given."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator

from cityhub.features.imports.options import ImportOptions
from cityhub.features.imports.rows import ImportSourceError, Rejected, SourceRow
from cityhub.features.imports.tables import TableRows
from cityhub.features.imports.values import looks_like_decimal_comma

DELIMITERS = (";", ",", "\t", "|")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
SNIFF_LINES = 50


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """The text and the name of its encoding: the one given, else UTF-8 (a BOM is dropped),
    else Windows-1252, else Latin-1 (which decodes anything)."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except LookupError:
            raise ImportSourceError(f"unknown encoding '{encoding}'") from None
        except UnicodeDecodeError as exc:
            raise ImportSourceError(
                f"the file is not {encoding}: byte {exc.start} cannot be decoded; "
                "leave out --encoding to detect it"
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_or_fail(data[3:], "utf-8"), "utf-8 (with BOM)"
    for name in ("utf-8", "windows-1252"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _decode_or_fail(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ImportSourceError(
            f"the file starts with a UTF-8 byte order mark, but byte {exc.start + 3} is not UTF-8"
        ) from None


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits most lines into the same number (>1) of fields."""
    best, best_score = DELIMITERS[0], (0, 0)
    for delimiter in DELIMITERS:
        widths = [len(next(csv.reader([line], delimiter=delimiter), [])) for line in lines]
        width, count = max(Counter(widths).items(), key=lambda item: (item[1], item[0]))
        score = (count if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def delimiter_option(value: str | None) -> str | None:
    """``--delimiter`` as a character: ``;``, ``,``, ``tab`` (or ``\\t``), ``|``."""
    if value is None:
        return None
    delimiter = DELIMITER_NAMES.get(value.casefold(), value)
    if len(delimiter) != 1:
        raise ImportSourceError(f"--delimiter must be one character or 'tab', not '{value}'")
    return delimiter


class CsvReader:
    """Features from CSV bytes; ``description`` says what was detected."""

    unit = "line"

    def __init__(self, data: bytes, options: ImportOptions) -> None:
        self.text, encoding = decode(data, options.encoding)
        sample = [line for line in self.text[:200_000].splitlines() if line.strip()][:SNIFF_LINES]
        self.delimiter = delimiter_option(options.delimiter) or sniff_delimiter(sample)
        cells = [v for row in csv.reader(sample, delimiter=self.delimiter) for v in row]
        self.decimal_comma = looks_like_decimal_comma(cells)
        self.total: int | None = self.text.count("\n")
        self.table = TableRows(self._rows(), options, self.decimal_comma)
        shown = "tab" if self.delimiter == "\t" else self.delimiter
        self.description = (
            f"CSV, {encoding}, delimiter '{shown}', decimal "
            f"{'comma' if self.decimal_comma else 'point'}, header on line "
            f"{self.table.header_line}, {self.table.geometry.describe(options.crs)}"
        )

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter)
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ImportSourceError(f"line {reader.line_num}: {exc}") from None

    def __iter__(self) -> Iterator[SourceRow | Rejected]:
        return iter(self.table)
