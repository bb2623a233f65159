"""Writers that turn batches of rows into chunks of a file's bytes: CSV, a GeoJSON
FeatureCollection and Parquet. Each batch becomes one chunk (a Parquet row group), so a
download never holds more than one batch in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq


class CsvChunks:
    """CSV (RFC 4180: comma, CRLF, quotes where needed) in UTF-8, one chunk per batch."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def chunk(self, rows: Iterable[Sequence[Any]]) -> bytes:
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()


def geojson_chunks(features: Iterable[Iterable[bytes]]) -> Iterator[bytes]:
    """A FeatureCollection from batches of features (each one JSON-encoded Feature)."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in features:
        encoded = b",".join(batch)
        if not encoded:
            continue
        yield encoded if first else b"," + encoded
        first = False
    yield b"]}\n"


def feature(feature_id: Any, geometry: str | None, properties: Any) -> bytes:
    """One GeoJSON Feature; ``geometry`` is GeoJSON text as the store gives it."""
    return orjson.dumps(
        {
            "type": "Feature",
            "id": feature_id,
            "geometry": None if geometry is None else orjson.Fragment(geometry),
            "properties": properties,
        }
    )


class _Sink(io.RawIOBase):
    """What the Parquet writer writes, kept until the download takes it."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        taken = b"".join(self._parts)
        self._parts.clear()
        return taken


def parquet_chunks(schema: pa.Schema, tables: Iterable[pa.Table]) -> Iterator[bytes]:
    """A Parquet file (zstd-compressed) from tables of ``schema``, one row group each; the
    bytes of each row group go out as soon as it is written."""
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        for table in tables:
            if table.num_rows:
                writer.write_table(table, row_group_size=table.num_rows)
                yield sink.take()
    finally:
        writer.close()
    yield sink.take()
