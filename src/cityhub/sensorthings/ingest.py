"""The ingest hot path: creating Observations, alone or many in one go.

Each POSTed Observation is queued with the writer as an ``ObservationCreate``. Alone it is an
ordinary create. When several are queued together, the writer hands them over as one batch:
one lookup of their Datastreams (and MultiDatastreams), one multi-row INSERT … RETURNING, one
time-range UPDATE per stream — a handful of statements instead of four per Observation. If any
of them is rejected, the writer redoes each alone, so the others still commit.

The bulk path (``load_observations``, used by CreateObservations) takes Observations column
by column (``ObservationColumns``), checks per row what needs the database, and loads every
valid row with the store's bulk loader (COPY / executemany) and ids reserved up front.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress
from typing import Any

from sqlalchemy import Connection, insert, select

from cityhub.errors import BadRequest
from cityhub.sensorthings import derived, reads, writes
from cityhub.sensorthings.model import BY_NAME, OBSERVATION_TYPE_BASE
from cityhub.sensorthings.reads import Record
from cityhub.sensorthings.serialize import result_value
from cityhub.sensorthings.visibility import visible
from cityhub.store import changes, schema
from cityhub.store.access import EVERYTHING, Reader, hidden_datasets
from cityhub.store.bulk import BulkLoader

OBSERVATION = BY_NAME["Observation"]

_INSERT_RETURNING_IDS = insert(schema.observations).returning(
    schema.observations.c.id, sort_by_parameter_order=True
)


class ObservationCreate:
    """One ``POST …/Observations``; ``fixed`` holds the (Multi)Datastream named by the URL,
    ``reader`` what the writer may read: a stream it may not read does not exist for it."""

    batch_key = "observation-create"

    def __init__(self, body: Any, fixed: dict[str, int], reader: Reader = EVERYTHING) -> None:
        self.body = body
        self.fixed = fixed
        self.reader = reader

    def __call__(self, connection: Connection) -> Record:
        writes.write_as(connection, None, hidden_datasets(connection, self.reader))
        named = [(s, self.fixed[s.key]) for s in derived.STREAMS if s.key in self.fixed]
        refuse_hidden(connection, [(self.reader, ref) for ref in named])
        new_id = writes.create(connection, OBSERVATION, self.body, self.fixed)
        return reads.read_by_id(connection, OBSERVATION, new_id)

    @classmethod
    def run_batch(cls, connection: Connection, creates: list[ObservationCreate]) -> list[Record]:
        rows = [writes.plain_observation_columns(c.body, c.fixed) for c in creates]
        if any(row is None for row in rows):
            return [create(connection) for create in creates]
        refs = [derived.stream_of(row) for row in rows]  # type: ignore[arg-type]
        refuse_hidden(connection, zip([c.reader for c in creates], refs, strict=True))
        return _insert_many(connection, rows)  # type: ignore[arg-type]


def refuse_hidden(
    connection: Connection, wanted: Iterable[tuple[Reader, derived.StreamRef]]
) -> None:
    """``BadRequest`` if a writer names a stream it may not read: to it, that stream does not
    exist (as over ``POST Datastreams(n)/Observations``). One small query per kind of reader
    and stream, none for admins or while no dataset is restricted."""
    by_reader: dict[Reader, dict[derived.Stream, set[int]]] = {}
    for reader, (stream, stream_id) in wanted:
        if not reader.everything:
            by_reader.setdefault(reader, {}).setdefault(stream, set()).add(stream_id)
    for reader, streams in by_reader.items():
        hidden = hidden_datasets(connection, reader)
        if not hidden:
            continue
        for stream, ids in streams.items():
            entity, table = BY_NAME[stream.name], stream.table
            shown = select(table.c.id).where(
                table.c.id.in_(sorted(ids)), *visible(entity, table, hidden)
            )
            missing = ids - set(connection.scalars(shown))
            if missing:
                raise BadRequest(f"{stream.name}({min(missing)}) does not exist")


def _insert_many(connection: Connection, rows: list[dict[str, Any]]) -> list[Record]:
    refs = [derived.stream_of(row) for row in rows]
    contexts = derived.stream_contexts(connection, refs)
    features: dict[int, int] = {}
    for row, ref in zip(rows, refs, strict=True):
        context = contexts.get(ref)
        if context is None:
            raise BadRequest(f"{ref[0].name}({ref[1]}) does not exist")
        writes.check_observation_result(ref[0], context, result_value(row))
        if row["phenomenon_time_start"] is None:
            row["phenomenon_time_start"] = writes.now()
        thing_id = context.thing_id
        if context.feature_id is None and thing_id not in features:
            features[thing_id] = derived.feature_from_location(connection, thing_id)
        row["feature_of_interest_id"] = context.feature_id or features[thing_id]
    new_ids = connection.execute(_INSERT_RETURNING_IDS, rows).scalars().all()
    for row, new_id in zip(rows, new_ids, strict=True):
        row["id"] = new_id
    derived.extend_extents(connection, rows, contexts)
    changes.record_created(connection, OBSERVATION.name, list(new_ids))
    return [Record(row) for row in rows]


# --- bulk: many Observations of few Datastreams, column by column ----------------------------

#: The columns of an Observation a bulk load fills (besides id and datastream_id).
OBSERVATION_COLUMNS = (
    "phenomenon_time_start",
    "phenomenon_time_end",
    "result_time",
    "result_type",
    "result_number",
    "result_string",
    "result_json",
    "result_quality",
    "valid_time_start",
    "valid_time_end",
    "parameters",
    "feature_of_interest_id",
)
_TIME_COLUMNS = frozenset(
    {
        "phenomenon_time_start",
        "phenomenon_time_end",
        "result_time",
        "valid_time_start",
        "valid_time_end",
    }
)
_JSON_COLUMNS = frozenset({"result_json", "result_quality", "parameters"})

# Result types each observationType accepts (see ``values.check_result``); JSON-typed results
# (integers beyond 2**53, say) are checked one by one.
_MEASURED = frozenset({schema.RESULT_INTEGER, schema.RESULT_FLOAT})
_RESULT_TYPES = {
    "OM_Measurement": _MEASURED,
    "OM_CountObservation": frozenset({schema.RESULT_INTEGER}),
    "OM_TruthObservation": frozenset({schema.RESULT_BOOLEAN}),
    "OM_CategoryObservation": frozenset({schema.RESULT_STRING}),
}


@dataclass
class ObservationColumns:
    """Observations of one Datastream (or MultiDatastream, as ``stream`` says), one list per
    column of ``OBSERVATION_COLUMNS``.

    Columns left out are NULL; a ``feature_of_interest_id`` of ``None`` means "derive it from
    the Thing's Location". Rows in ``rejected`` were found invalid already and are skipped.
    ``time_texts`` may hold, for a time column, the ISO 8601 texts its datetimes were parsed
    from: a backend storing times as text can reuse them (see ``BulkLoader.times``).
    ``where`` names the group in error messages.
    """

    stream_id: int
    count: int
    columns: dict[str, list[Any]]
    rejected: set[int] = field(default_factory=set)
    where: str = ""
    time_texts: dict[str, Sequence[Any]] = field(default_factory=dict)
    stream: derived.Stream = derived.DATASTREAM
    #: Why each rejected row was rejected (the first reason found), for logs.
    reasons: dict[int, str] = field(default_factory=dict)

    @property
    def ref(self) -> derived.StreamRef:
        return self.stream, self.stream_id

    def reject(self, rows: Iterable[int], reason: str) -> None:
        """Leave ``rows`` out of the load, for ``reason`` unless they already were."""
        for row in rows:
            if row not in self.rejected:
                self.rejected.add(row)
                self.reasons[row] = reason


@dataclass
class Loaded:
    """What a bulk load did: for each group, the new id of each row (``None`` where it was
    rejected), and why each rejected row was."""

    ids: list[list[int | None]]
    reasons: list[dict[int, str]]

    def __getitem__(self, part: slice) -> Loaded:
        return Loaded(self.ids[part], self.reasons[part])


class ObservationLoad:
    """One bulk request (``CreateObservations``) queued with the writer; ``reader`` is what
    the writer may read (a stream it may not read does not exist for it).

    Requests queued together are loaded together: one lookup of their Datastreams, one id
    reservation, one COPY. If one of them is rejected as a whole, the writer redoes each
    alone, so only that one fails.
    """

    batch_key = "observation-load"

    def __init__(self, groups: list[ObservationColumns], reader: Reader = EVERYTHING) -> None:
        self.groups = groups
        self.reader = reader

    def __call__(self, connection: Connection) -> Loaded:
        return self.run_batch(connection, [self])[0]

    @classmethod
    def run_batch(cls, connection: Connection, loads: list[ObservationLoad]) -> list[Loaded]:
        refuse_hidden(connection, [(load.reader, g.ref) for load in loads for g in load.groups])
        loaded = load_observations(connection, [g for load in loads for g in load.groups])
        results, start = [], 0
        for load in loads:
            results.append(loaded[start : start + len(load.groups)])
            start += len(load.groups)
        return results


def load_observations(connection: Connection, groups: list[ObservationColumns]) -> Loaded:
    """Create the Observations of ``groups`` in one bulk load; for each group the new id of
    each row (``None`` where it was rejected) and the reasons of the rows rejected.

    What needs the database is checked here, per row, without stopping the others: the
    result against the Datastream's observationType, the FeatureOfInterest (given and
    existing, or derived from the Thing's Location). An unknown Datastream is a 400 for the
    whole request. Ids are reserved first, so no row needs a round trip of its own; each
    Datastream's phenomenonTime, resultTime and observedArea are widened once.
    """
    # Work on copies: the writer may run the same groups again after a rollback.
    groups = [
        replace(g, columns=dict(g.columns), rejected=set(g.rejected), reasons=dict(g.reasons))
        for g in groups
    ]
    contexts = derived.stream_contexts(connection, {g.ref for g in groups})
    for group in groups:
        if group.ref not in contexts:
            raise BadRequest(f"{group.where}{group.stream.name}({group.stream_id}) does not exist")
    _check_features(connection, groups, contexts)
    for group in groups:
        _check_results(group, contexts[group.ref])
    loader = BulkLoader(connection)
    accepted = [_accepted(group) for group in groups]
    sizes = [len(columns[0]) for columns, _ in accepted]
    ids = loader.reserve_ids(schema.observations, sum(sizes))
    keys = [stream.key for stream in derived.STREAMS if any(g.stream is stream for g in groups)]
    # Columns no row fills stay out of the load: the database makes them NULL for free.
    used = [
        index
        for index in range(len(OBSERVATION_COLUMNS))
        if any(_any_value(columns[index]) for columns, _ in accepted)
    ]
    new_ids: list[list] = []
    table_rows: list[tuple[Any, ...]] = []
    extents: dict[derived.StreamRef, derived.Added] = {}
    taken = 0
    for group, (columns, texts), size in zip(groups, accepted, sizes, strict=True):
        mine = ids[taken : taken + size]
        taken += size
        new_ids.append(_numbered(group, mine))
        if size:
            _add_extents(extents, group, columns, mine)
            streams = [group.stream_id if key == group.stream.key else None for key in keys]
            rows = _table_rows(loader, streams, columns, texts, used, mine)
            table_rows.extend(rows)
    if table_rows:
        names = ("id", *keys, *(OBSERVATION_COLUMNS[i] for i in used))
        loader.load(schema.observations, names, table_rows)
        derived.extend_stream_extents(connection, extents, contexts)
        changes.record_created(connection, OBSERVATION.name, ids)
    return Loaded(new_ids, [group.reasons for group in groups])


def _numbered(group: ObservationColumns, ids: list[int]) -> list[int | None]:
    """The new id of each row of the group, ``None`` for a rejected one."""
    if not group.rejected:
        return list(ids)
    fresh = iter(ids)
    return [None if i in group.rejected else next(fresh) for i in range(group.count)]


def _check_features(
    connection: Connection, groups: list[ObservationColumns], contexts: dict[Any, Any]
) -> None:
    """Reject rows naming a FeatureOfInterest that does not exist; fill in derived ones."""
    given = {
        feature
        for group in groups
        for feature in set(group.columns.get("feature_of_interest_id", ()))
        if feature is not None
    }
    existing = set()
    if given:
        features = schema.features_of_interest
        existing = set(connection.scalars(select(features.c.id).where(features.c.id.in_(given))))
    derived_features: dict[int, int | None] = {}
    for group in groups:
        column = group.columns.get("feature_of_interest_id")
        if column is not None and given - existing:
            group.reject(
                (i for i, f in enumerate(column) if f is not None and f not in existing),
                "its FeatureOfInterest does not exist",
            )
        if column is not None and None not in column:
            continue
        feature = _derived_feature(connection, contexts[group.ref], derived_features)
        if column is None:
            group.columns["feature_of_interest_id"] = [feature] * group.count
            column = group.columns["feature_of_interest_id"]
        else:
            group.columns["feature_of_interest_id"] = column = [
                feature if f is None else f for f in column
            ]
        if feature is None:
            group.reject(
                (i for i, f in enumerate(column) if f is None),
                "no FeatureOfInterest, and its Thing has no Location to derive one from",
            )


def _derived_feature(
    connection: Connection, context: Any, known: dict[int, int | None]
) -> int | None:
    """The feature derived from the Thing's Location, made once; ``None`` without one."""
    if context.feature_id is not None:
        return int(context.feature_id)
    if context.thing_id not in known:
        try:
            known[context.thing_id] = derived.feature_from_location(connection, context.thing_id)
        except BadRequest:
            known[context.thing_id] = None
    return known[context.thing_id]


def _check_results(group: ObservationColumns, context: Any) -> None:
    """Reject rows whose result does not fit the stream: per column for a Datastream (a set
    comparison unless the column mixes kinds), per row for a MultiDatastream's arrays."""
    types = group.columns["result_type"]
    allowed = None
    if group.stream is derived.DATASTREAM:
        allowed = _RESULT_TYPES.get(context.observation_type.removeprefix(OBSERVATION_TYPE_BASE))
        if allowed is None or set(types) <= allowed:
            return
    documents = group.columns["result_json"]
    for index, code in enumerate(types):
        if allowed is not None and code in allowed:
            continue
        try:
            if code != schema.RESULT_JSON:
                raise BadRequest(
                    f"the result does not fit the {group.stream.name}'s observationType "
                    f"{context.observation_type.removeprefix(OBSERVATION_TYPE_BASE)}"
                )
            writes.check_observation_result(group.stream, context, documents[index])
        except BadRequest as exc:
            group.reject([index], exc.message)


def _accepted(group: ObservationColumns) -> tuple[list[list[Any]], dict[int, Sequence[Any]]]:
    """The columns of the group's valid rows, in the order of ``OBSERVATION_COLUMNS``, and
    the time texts the group kept, by column index."""
    nothing = [None] * group.count
    columns = [group.columns.get(name, nothing) for name in OBSERVATION_COLUMNS]
    texts = {OBSERVATION_COLUMNS.index(name): t for name, t in group.time_texts.items()}
    if not group.rejected:
        return columns, texts
    keep = [i not in group.rejected for i in range(group.count)]
    columns = [list(compress(column, keep)) for column in columns]
    return columns, {index: list(compress(t, keep)) for index, t in texts.items()}


_TIME_INDEXES = frozenset(i for i, name in enumerate(OBSERVATION_COLUMNS) if name in _TIME_COLUMNS)
_JSON_INDEXES = frozenset(i for i, name in enumerate(OBSERVATION_COLUMNS) if name in _JSON_COLUMNS)
_START, _END, _RESULT_TIME, _FEATURE = (
    OBSERVATION_COLUMNS.index(name)
    for name in (
        "phenomenon_time_start",
        "phenomenon_time_end",
        "result_time",
        "feature_of_interest_id",
    )
)


def _table_rows(
    loader: BulkLoader,
    streams: list[int | None],
    columns: list[list[Any]],
    texts: dict[int, Sequence[Any]],
    used: list[int],
    ids: list[int],
) -> Iterator[tuple[Any, ...]]:
    """Rows for the table: the id, the stream keys and the ``used`` columns, in the form the
    backend takes."""
    converted = []
    for index in used:
        column = columns[index]
        if index in _TIME_INDEXES and _any_value(column):
            column = loader.times(column, texts.get(index))
        elif index in _JSON_INDEXES and _any_value(column):
            column = loader.documents(column)
        converted.append(column)
    keys = [[stream_id] * len(ids) for stream_id in streams]
    return zip(ids, *keys, *converted, strict=True)


def _any_value(column: list[Any]) -> bool:
    return column.count(None) != len(column)


def _add_extents(
    extents: dict[derived.StreamRef, derived.Added],
    group: ObservationColumns,
    columns: list[list[Any]],
    ids: list[int],
) -> None:
    """Add what ``derived.extend_stream_extents`` needs of the group's new Observations: their
    ids, times and features, column by column (it widens the times, grows observedArea,
    counts the Observations and moves a Datastream's latest one)."""
    added = derived.Added(
        list(ids),
        list(columns[_START]),
        list(columns[_END]),
        list(columns[_RESULT_TIME]),
        list(columns[_FEATURE]),
    )
    current = extents.get(group.ref)
    if current is None:
        extents[group.ref] = added
    else:
        current.extend(added)
