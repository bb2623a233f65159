"""Column types shared by both backends.

What differs between SQLite and PostgreSQL is settled here and in ``dialects``: geometry is a
PostGIS ``geometry`` on PostgreSQL and GeoJSON text on SQLite (where functions of the same
names are registered, so the SQL is the same); JSON is ``jsonb`` on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, Text, TypeDecorator, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import UserDefinedType

SRID = 4326

#: JSON documents: ``jsonb`` on PostgreSQL, text on SQLite. SQL NULL for Python ``None``.
JSONDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

#: 64-bit keys that SQLite still treats as its rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, always stored in UTC and always returned aware in UTC.

    On SQLite they are text ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's own format, which
    sorts as time does), converted here with the C-speed ISO parser: reads of many rows spend
    most of their time on datetimes otherwise.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.strftime(_SQLITE_FORMAT)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class Geometry(UserDefinedType[str]):
    """A geometry in WGS 84, written and read as GeoJSON text.

    Values pass through ``ST_GeomFromGeoJSON`` on the way in; on SQLite that function is ours
    and returns normalised GeoJSON text, on PostgreSQL it is PostGIS's.
    """

    cache_ok = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Reflection passes the column's geometry type and SRID; all are stored alike."""

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry(Geometry, {SRID})"

    def bind_expression(self, bindvalue: Any) -> ColumnElement[Any]:
        return func.ST_SetSRID(func.ST_GeomFromGeoJSON(bindvalue), SRID)

    def column_expression(self, col: Any) -> ColumnElement[Any]:
        return func.ST_AsGeoJSON(col)


@compiles(Geometry, "sqlite")
def _geometry_on_sqlite(type_: Geometry, compiler: Any, **kw: Any) -> str:
    return "TEXT"


# Let reflection (Alembic's autogenerate, schema checks) recognise PostGIS columns.
postgresql_base.ischema_names["geometry"] = Geometry
