"""Aggregation of Observations over time buckets, an extension of SensorThings.

``GET /v1.1/Datastreams(1)/Observations/$aggregate?interval=PT1H&phenomenonTime=start/end``
answers one entry per bucket — its ``phenomenonTime`` and the ``count``, ``min``, ``max``,
``avg`` and ``sum`` of the Observations whose phenomenonTime starts in it — paged like any
collection; ``MultiDatastreams(1)/…`` answers per-component arrays. Bucket bounds are
computed here (``buckets``); the database aggregates them in one statement that range-scans
``observations (datastream_id, phenomenon_time_start, …)`` once per bucket.
docs/sensorthings.md ("Aggregation") explains the choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    FromClause,
    Select,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cityhub.errors import BadRequest, MethodNotAllowed, NotFound
from cityhub.sensorthings import reads
from cityhub.sensorthings.buckets import Grid, parse_interval, parse_zone
from cityhub.sensorthings.filters import Translator
from cityhub.sensorthings.model import BY_SET, EntityType
from cityhub.sensorthings.odata import Node
from cityhub.sensorthings.options import LINK_SAFE, QueryOptions, parse_query_options
from cityhub.sensorthings.places import resolve_places
from cityhub.sensorthings.resource import parse_resource_path
from cityhub.store import schema
from cityhub.store.access import hidden_datasets
from cityhub.store.types import UTCDateTime
from cityhub.timeutil import format_instant, parse_time
from cityhub.web import JSONResponse

if TYPE_CHECKING:
    from cityhub.sensorthings.api import SensorThingsFace

#: What each bucket can carry; ``$select`` picks among them (phenomenonTime is always there).
FUNCTIONS = ("count", "min", "max", "avg", "sum")
#: The request's own parameters, besides the system query options below.
PARAMETERS = ("interval", "phenomenonTime", "timeZone")
OPTIONS = ("$filter", "$select", "$top", "$skip", "$count")
#: Times stay readable in nextLinks too.
_LINK_SAFE = LINK_SAFE + ":"
OBSERVATIONS = BY_SET["Observations"]


@dataclass(frozen=True)
class Series:
    """What is aggregated: the Observations of one owner, and the numbers taken from each.

    ``condition`` selects the owner's Observations by the bound parameter ``owner_id``. A
    Datastream has one number per Observation (``result_number``, NULL for results that are
    not numbers); a MultiDatastream one per component (a member of its result array), and its
    figures are answered as per-component arrays.
    """

    name: str
    table: FromClause
    condition: ColumnElement[bool]
    values: tuple[ColumnElement[Any], ...]


def _datastream_series() -> Series:
    table = schema.observations.alias("counted")
    return Series(
        "Datastream",
        table,
        table.c.datastream_id == bindparam("owner_id"),
        (table.c.result_number,),
    )


DATASTREAM = _datastream_series()


@lru_cache(maxsize=64)
def multi_datastream_series(backend: str, width: int) -> Series:
    """A MultiDatastream's Observations and the ``width`` members of their result arrays,
    each a number where the member is one (NULL otherwise)."""
    table = schema.observations.alias("counted")
    result = table.c.result_json
    values: list[ColumnElement[Any]] = []
    for index in range(width):
        if backend == "postgresql":
            member = result.op("->")(literal_column(str(index)))
            number = cast(result.op("->>")(literal_column(str(index))), Float)
            values.append(case((func.jsonb_typeof(member) == "number", number)))
        else:
            path = f"$[{index}]"
            is_number = func.json_type(result, path).in_(("integer", "real"))
            values.append(case((is_number, func.json_extract(result, path))))
    return Series(
        f"MultiDatastream/{width}",
        table,
        table.c.multi_datastream_id == bindparam("owner_id"),
        tuple(values),
    )


def component_count(connection: Connection, multi_datastream_id: int) -> int:
    """How many values each result of a MultiDatastream holds (404 for an unknown one)."""
    table = schema.multi_datastreams
    types = connection.scalar(
        select(table.c.multi_observation_data_types).where(table.c.id == multi_datastream_id)
    )
    if types is None:
        raise NotFound(f"no MultiDatastream with @iot.id {multi_datastream_id}")
    return len(types)


@dataclass(frozen=True)
class BucketStats:
    """One bucket's figures; ``numbers`` (how many numeric results) etc. hold one entry per
    value of the series."""

    phenomenon_time: str
    count: int
    numbers: tuple[int, ...]
    minimum: tuple[float | None, ...]
    maximum: tuple[float | None, ...]
    total: tuple[float | None, ...]


@dataclass(frozen=True)
class AggregateRequest:
    grid: Grid
    buckets: int  # in the whole range
    options: QueryOptions
    functions: tuple[str, ...]


def routes(face: SensorThingsFace, version: str) -> list[BaseRoute]:
    """The aggregation routes; they must come before the face's catch-all route."""
    endpoint = AggregateEndpoint(face)
    writes = ["POST", "PATCH", "PUT", "DELETE"]
    found: list[BaseRoute] = []
    for set_name, handler in (
        ("Datastreams", endpoint.datastream),
        ("MultiDatastreams", endpoint.multi_datastream),
    ):
        path = f"/{version}/{set_name}({{id}})/Observations/$aggregate"
        found.append(Route(path, handler, methods=["GET"]))
        found.append(Route(path, _read_only, methods=writes))  # else the catch-all takes them
    return found


async def _read_only(request: Request) -> Response:
    raise MethodNotAllowed("$aggregate is computed from the Observations: only GET reads it")


class AggregateEndpoint:
    def __init__(self, face: SensorThingsFace) -> None:
        self.face = face

    async def datastream(self, request: Request) -> Response:
        def series(connection: Connection, datastream_id: int) -> Series:
            check_exists(connection, BY_SET["Datastreams"], datastream_id)
            return DATASTREAM

        return await self._answer(request, "Datastreams", series, single=True)

    async def multi_datastream(self, request: Request) -> Response:
        backend = self.face.store.backend

        def series(connection: Connection, multi_datastream_id: int) -> Series:
            width = component_count(connection, multi_datastream_id)
            return multi_datastream_series(backend, width)

        return await self._answer(request, "MultiDatastreams", series, single=False)

    async def _answer(
        self,
        request: Request,
        set_name: str,
        series_of: Callable[[Connection, int], Series],
        single: bool,
    ) -> Response:
        # The resource path parser checks the id as it does everywhere (400, or 404 out of range).
        owner = parse_resource_path(f"{set_name}({request.path_params['id']})")
        owner_id = owner.last.id
        assert owner_id is not None
        principal = await self.face.auth.principal(request)
        parsed = parse_request(request, self.face.settings.max_aggregate_buckets)
        backend = self.face.store.backend
        top = self.face.paging.top(parsed.options)
        skip = parsed.options.skip or 0
        total = parsed.buckets
        first, last = min(skip, total), min(skip + top, total)

        def work(connection: Connection) -> list[BucketStats]:
            # 404 for one hidden from the reader, as for one that does not exist.
            hidden = hidden_datasets(connection, principal.reader)
            reads.resolve(connection, owner, hidden)
            series = series_of(connection, owner_id)
            options = resolve_places(connection, parsed.options, hidden)
            request = replace(parsed, options=options)
            return aggregate(connection, backend, series, owner_id, request, first, last)

        stats = await self.face.store.read(work)
        body: dict[str, Any] = {}
        if parsed.options.count:
            body["@iot.count"] = total
        body["value"] = [render(item, parsed.functions, single) for item in stats]
        if top > 0 and last < total:  # $top=0 asks for no page, not for endless links
            body["@iot.nextLink"] = self._next_link(request, top, skip + top)
        return JSONResponse(body)

    def _next_link(self, request: Request, top: int, skip: int) -> str:
        params = [
            (name, value)
            for name, value in request.query_params.multi_items()
            if name.lower() not in ("$top", "$skip")  # option names are case-insensitive
        ]
        params += [("$top", str(top)), ("$skip", str(skip))]
        query = urlencode(params, safe=_LINK_SAFE)
        return f"{self.face.base_url(request)}{request.url.path}?{query}"


# --- the request -----------------------------------------------------------------------------


def parse_request(request: Request, max_buckets: int) -> AggregateRequest:
    """Parameters and options of an aggregation request, each checked with a 400 that says why."""
    items = request.query_params.multi_items()
    known = {name.lower(): name for name in (*PARAMETERS, *OPTIONS)}
    own: dict[str, str] = {}
    for name, value in items:
        canonical = known.get(name.lower())
        if canonical is None:
            allowed = ", ".join((*PARAMETERS, *OPTIONS))
            raise BadRequest(f"$aggregate does not take '{name}'; it takes {allowed}")
        if canonical in own:
            raise BadRequest(f"{canonical} given more than once")
        own[canonical] = value
    options = parse_query_options(items)
    for name in PARAMETERS[:2]:
        if not own.get(name, "").strip():
            raise BadRequest(
                f"$aggregate needs {name}, e.g. interval=PT1H&"
                "phenomenonTime=2026-11-01T00:00:00Z/2026-12-01T00:00:00Z"
            )
    grid, buckets = _grid(own, max_buckets)
    return AggregateRequest(grid, buckets, options, _functions(options))


def _grid(own: dict[str, str], max_buckets: int) -> tuple[Grid, int]:
    """The buckets asked for, and how many the range holds."""
    interval = parse_interval(own["interval"])
    zone = parse_zone(own.get("timeZone", "UTC"))
    try:
        span = parse_time(own["phenomenonTime"])
    except BadRequest as exc:
        raise BadRequest(f"phenomenonTime: {exc.message}") from None
    if span.end is None or span.end <= span.start:
        raise BadRequest(
            f"phenomenonTime: give a range start/end with end after start, got "
            f"{own['phenomenonTime']!r}"
        )
    grid = Grid(span.start, span.end, interval, zone)
    try:
        count = grid.count()
    except (OverflowError, ValueError):
        raise BadRequest("phenomenonTime: the buckets reach beyond the year 9999") from None
    if count > max_buckets:
        raise BadRequest(
            f"phenomenonTime {own['phenomenonTime']} in buckets of {interval.text} makes "
            f"{count} buckets; at most {max_buckets} are allowed per request: "
            "shorten the range or lengthen the interval"
        )
    return grid, count


def _functions(options: QueryOptions) -> tuple[str, ...]:
    if options.select is None:
        return FUNCTIONS
    chosen = []
    for path in options.select:
        name = "/".join(path)
        if name == "phenomenonTime":
            continue
        if name not in FUNCTIONS:
            raise BadRequest(
                f"$select: '{name}' is not a property of a bucket; choose from "
                f"phenomenonTime, {', '.join(FUNCTIONS)}"
            )
        chosen.append(name)
    return tuple(name for name in FUNCTIONS if name in chosen)


# --- the statement ---------------------------------------------------------------------------


def check_exists(connection: Connection, entity: EntityType, entity_id: int) -> None:
    table = entity.table
    if connection.scalar(select(table.c.id).where(table.c.id == entity_id)) is None:
        raise NotFound(f"no {entity.name} with @iot.id {entity_id}")


def aggregate(
    connection: Connection,
    backend: str,
    series: Series,
    owner_id: int,
    request: AggregateRequest,
    first: int,
    last: int,
) -> list[BucketStats]:
    """The figures of buckets ``first`` to ``last`` (exclusive), in one statement."""
    if last <= first:
        return []
    edges = request.grid.edges(first, last)
    statement = _statement(backend, series, request.options.filter)
    params: dict[str, Any] = {"owner_id": owner_id}
    if backend == "postgresql":
        params.update(starts=edges[:-1], ends=edges[1:])
        rows: list[Sequence[Any]] = connection.execute(statement, params).all()
    else:
        as_stored = UTCDateTime().process_bind_param  # the text the column holds on SQLite
        stored = [as_stored(edge, connection.dialect) for edge in edges]
        params["bounds"] = orjson.dumps(list(pairwise(stored))).decode()
        width = len(series.values)
        rows = [_unpack(text, width) for text in connection.execute(statement, params).scalars()]
    times = [format_instant(edge) for edge in edges]
    return [
        _stats(f"{start}/{end}", row)
        for start, end, row in zip(times, times[1:], rows, strict=False)
    ]


#: Statements without $filter, built once per backend and series.
_PREPARED: dict[tuple[str, str], Select[Any]] = {}


def _statement(backend: str, series: Series, condition: Node | None) -> Select[Any]:
    if condition is None and (backend, series.name) in _PREPARED:
        return _PREPARED[backend, series.name]
    conditions = [series.condition]
    if condition is not None:
        conditions.append(Translator(OBSERVATIONS, series.table, backend).condition(condition))
    build = _lateral if backend == "postgresql" else _correlated
    statement = build(series, conditions)
    if condition is None:
        _PREPARED[backend, series.name] = statement
    return statement


def _figures(values: Sequence[ColumnElement[Any]]) -> list[ColumnElement[Any]]:
    figures: list[ColumnElement[Any]] = [func.count()]
    for value in values:
        figures += [func.count(value), func.min(value), func.max(value), func.sum(value)]
    return figures


def _lateral(series: Series, conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """PostgreSQL: the bucket bounds as two array parameters, a LATERAL aggregate per bucket."""
    starts = bindparam("starts", type_=ARRAY(DateTime(timezone=True)))
    ends = bindparam("ends", type_=ARRAY(DateTime(timezone=True)))
    buckets = (
        func.unnest(starts, ends)
        .table_valued("bucket_start", "bucket_end", with_ordinality="position")
        .render_derived(name="buckets")
    )
    time = series.table.c.phenomenon_time_start
    figures = (
        select(*_figures(series.values))
        .where(*conditions, time >= buckets.c.bucket_start, time < buckets.c.bucket_end)
        .lateral("figures")
    )
    return (
        select(*figures.c).select_from(buckets.join(figures, true())).order_by(buckets.c.position)
    )


def _correlated(series: Series, conditions: list[ColumnElement[bool]]) -> Select[Any]:
    """SQLite (no LATERAL): a correlated subquery per bucket, its figures packed in one text.

    One subquery is one index range scan; five scalar subqueries would be five. ``%!.17g``
    keeps every bit of a double, which SQLite's JSON functions would round to 15 digits.
    """
    buckets = func.json_each(bindparam("bounds")).table_valued("key", "value").alias("buckets")
    bucket_start = func.json_extract(buckets.c.value, "$[0]")  # not ->>: SQLite before 3.38
    bucket_end = func.json_extract(buckets.c.value, "$[1]")
    time = series.table.c.phenomenon_time_start
    pattern = "%d" + " %d %!.17g %!.17g %!.17g" * len(series.values)
    packed = (
        select(func.printf(pattern, *_figures(series.values)))
        .where(*conditions, time >= bucket_start, time < bucket_end)
        .scalar_subquery()
    )
    return select(packed).select_from(buckets).order_by(buckets.c.key)


def _unpack(text: str, width: int) -> tuple[Any, ...]:
    parts = text.split(" ")
    row: list[Any] = [int(parts[0])]
    for index in range(width):
        numbers, low, high, total = parts[1 + 4 * index : 5 + 4 * index]
        row += [int(numbers), float(low), float(high), float(total)]
    return tuple(row)


def _stats(phenomenon_time: str, row: Sequence[Any]) -> BucketStats:
    """Figures from a row (count, then per value: numbers, min, max, sum); null where a value
    had no numbers (SQLite's packed text says 0 there)."""
    width = (len(row) - 1) // 4
    numbers, minimum, maximum, total = [], [], [], []
    for index in range(width):
        n, low, high, sum_ = row[1 + 4 * index : 5 + 4 * index]
        numbers.append(n)
        minimum.append(low if n else None)
        maximum.append(high if n else None)
        total.append(sum_ if n else None)
    return BucketStats(
        phenomenon_time, row[0], tuple(numbers), tuple(minimum), tuple(maximum), tuple(total)
    )


# --- the answer ------------------------------------------------------------------------------


def render(stats: BucketStats, functions: tuple[str, ...], single: bool) -> dict[str, Any]:
    """One bucket as JSON; a series of one value gives numbers, of several values arrays."""
    body: dict[str, Any] = {"phenomenonTime": stats.phenomenon_time}
    for name in functions:
        if name == "count":
            body["count"] = stats.count
            continue
        if name == "avg":
            values: tuple[float | None, ...] = tuple(
                None if total is None else total / n
                for n, total in zip(stats.numbers, stats.total, strict=True)
            )
        else:
            values = {"min": stats.minimum, "max": stats.maximum, "sum": stats.total}[name]
        body[name] = values[0] if single else list(values)
    return body
