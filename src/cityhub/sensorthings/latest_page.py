"""The latest value of many Datastreams, written as JSON by the database.

``Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)`` — with any
``$select``, ``$filter``, ``$orderby``, ``$count``, paging on the Datastreams and any
``$select`` and ``$count`` on the Observations — is what dashboards and maps ask most, for
thousands of Datastreams at once. Each Datastream is joined with the latest Observation it
keeps (``statistics``) and the statement writes both as JSON text (``json_sql``), so Python
only joins one text per Datastream. Every other request takes the general path (``reads``,
``serialize``); both give the same answer, which the tests compare.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from orjson import Fragment
from sqlalchemy import Select, Text, and_, any_, cast, func, select

from cityhub.sensorthings import json_sql, reads, statistics
from cityhub.sensorthings.json_sql import JsonText, Values, bound, quoted
from cityhub.sensorthings.model import BY_NAME
from cityhub.sensorthings.options import QueryOptions
from cityhub.sensorthings.reads import Listing, Page, PageRequest, Paging, Target
from cityhub.sensorthings.serialize import next_link_parts, selected_names

DATASTREAM = BY_NAME["Datastream"]
OBSERVATIONS = statistics.DATASTREAM_OBSERVATIONS
OBSERVATION = statistics.OBSERVATION


def latest_expand(target: Target, options: QueryOptions, paging: Paging) -> QueryOptions | None:
    """The options of the Observations expanded, if the request is one this module answers."""
    if target.entity is not DATASTREAM or target.single or not options.expand:
        return None
    merged = reads.merge_expands(options.expand)
    inner = merged.get(OBSERVATIONS.name)
    if len(merged) != 1 or inner is None or inner.expand:
        return None
    if not statistics.is_latest_only(OBSERVATIONS, inner, paging.top(inner)):
        return None
    return inner


def read_page(request: PageRequest) -> tuple[Page, Fragment] | None:
    """One page of Datastreams with their latest Observations, as the page (count, whether
    there is more) and its items as JSON text; None for a request this module does not answer.
    """
    connection, backend, target, options, paging, url = request
    inner = latest_expand(target, options, paging)
    if inner is None:
        return None
    listing = reads.listing(connection, backend, target, options, paging)
    reads.check_select(OBSERVATION, inner)
    if listing.top == 0:
        return Page([], listing.count, more=False), Fragment(b"[]")
    before, after = next_link_parts(url, DATASTREAM, OBSERVATIONS, inner, top=1)
    parameters = {
        "service_url": quoted(url),
        "before_id": quoted(before),
        "after_id": quoted(after),
    }
    columns = _columns(
        backend, selected_names(options.select), selected_names(inner.select), inner.count
    )
    rows = connection.execute(_statement(listing, columns, backend), parameters).all()
    more = len(rows) > listing.top
    return Page([], listing.count, more), Fragment(json_sql.joined(rows[: listing.top]))


_LATEST = OBSERVATION.table.alias("latest")


def _statement(listing: Listing, columns: tuple[Any, ...], backend: str) -> Select[Any]:
    """The page's Datastreams are chosen first (by id), then written: PostgreSQL would
    otherwise write the rows that ``$skip`` passes over too (it computes a row before it
    skips it). Each chosen Datastream is then one index lookup: on SQLite by joining the
    page; on PostgreSQL by ``= ANY(ARRAY(page))``, since it plans both a join and an ``IN``
    of the page as a hash over every Datastream."""
    table = DATASTREAM.table
    source = table.outerjoin(_LATEST, _LATEST.c.id == table.c.latest_observation_id)
    if backend == "postgresql":
        page_ids = listing.statement(table.c.id).correlate(None).scalar_subquery()
        chosen = table.c.id == any_(func.ARRAY(page_ids))
        return select(*columns).select_from(source).where(chosen).order_by(*listing.order)
    page = listing.statement(table.c.id.label("page_id")).correlate(None).subquery("page")
    source = page.join(source, table.c.id == page.c.page_id)
    return select(*columns).select_from(source).order_by(*listing.order)


@lru_cache(maxsize=256)  # bounded: the $select values come from clients
def _columns(
    backend: str,
    select: frozenset[str] | None,
    inner_select: frozenset[str] | None,
    count: bool,
) -> tuple[Any, ...]:
    """Each Datastream of the page with its latest Observation, as the general path renders
    them (``api.render``): the Datastream, ``Observations@iot.count`` if asked, the
    ``Observations`` (none or one), and their nextLink if the Datastream has more. The
    request's URLs are parameters: ``service_url``, and the nextLink ``before_id`` and
    ``after_id``."""
    values = Values(backend)
    datastreams = DATASTREAM.table
    base = bound("service_url")
    text, any_members = json_sql.members(values, DATASTREAM, datastreams, select, base)
    name = OBSERVATIONS.name
    separator = "," if any_members else ""
    if count:
        text.text(f'{separator}"{name}@iot.count":')
        text.sql(cast(datastreams.c.observation_count, Text))
        separator = ","
    text.text(f'{separator}"{name}":[')
    observation, _ = json_sql.members(values, OBSERVATION, _LATEST, inner_select, base)
    found = _LATEST.c.id.is_not(None)
    text.when(found, observation.text("}"))
    text.text("]")
    link = JsonText().text(f',"{name}@iot.nextLink":"').sql(bound("before_id"))
    link.sql(cast(datastreams.c.id, Text)).sql(bound("after_id")).text('"')
    text.when(and_(found, datastreams.c.observation_count > 1), link)
    text.text("}")
    return text.columns(values, json_sql.number(_LATEST))
