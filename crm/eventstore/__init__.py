"""The event store, the only writer of the event log: streams under optimistic concurrency (I2)
and idempotency keys (I3), one gap-free global order (I4); see docs/event-store.md."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import psycopg
from django.db import connection
from django.db.models import Q

from crm.domain.recorded import RecordedEvent
from crm.eventstore import idempotency, postgres
from crm.eventstore.postgres import APPEND_LOCK_KEY, pg_connection
from crm.eventstore.records import (
    COLUMNS,
    AppendResult,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InlineProjection,
    LockedStream,
    NewEvent,
    StreamAppend,
    UnreadableEvent,
    recorded,
    recorded_or_unreadable,
)
from crm.eventstore.writing import (
    CommandTransaction,
    append,
    command_transaction,
    current_version,
    take_append_lock,
)
from crm.models import CommandRecord, Event

__all__ = [
    "APPEND_LOCK_KEY",
    "AppendResult",
    "CommandTransaction",
    "ConcurrencyConflict",
    "IdempotencyKeyReused",
    "InlineProjection",
    "LockedStream",
    "NewEvent",
    "StreamAppend",
    "UnreadableEvent",
    "append",
    "command_result",
    "command_transaction",
    "current_version",
    "iter_by_stream",
    "last_position",
    "lock_and_read",
    "lock_and_read_many",
    "lock_streams",
    "pg_connection",
    "read_all",
    "read_for_followers",
    "read_latest_and_types",
    "read_stream",
    "read_stream_for_followers",
    "read_streams",
    "take_append_lock",
]


def command_result(idempotency_key: str) -> AppendResult | None:
    """The result of the earlier command that used `idempotency_key`, if any."""
    record = CommandRecord.objects.filter(key=idempotency_key).first()
    return None if record is None else idempotency.result_of(record)


def lock_and_read(
    stream_id: uuid.UUID,
    *,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    from_version: int = 1,
    also_lock: Sequence[uuid.UUID] = (),
) -> LockedStream:
    """What a command starts with: `lock_streams(stream_id, *also_lock)`, the earlier
    result of its idempotency key if any, and the stream's events from `from_version` on
    (a caller that kept the state up to some version reads only what came after). One
    round trip on PostgreSQL. A key already used for another command (another stream, or
    another `fingerprint`) raises `IdempotencyKeyReused`."""
    command = None if idempotency_key is None else idempotency.bound(idempotency_key, fingerprint)
    if connection.vendor != "postgresql":
        prior = None
        if command is not None:
            found = CommandRecord.objects.filter(key=command[0]).first()
            prior = None if found is None else idempotency.replay(found, stream_id, command)
        stored = Event.objects.filter(stream_id=stream_id, version__gte=from_version)
        events = [recorded(row) for row in stored.order_by("version").values_list(*COLUMNS)]
        return LockedStream(events=events, prior=prior)
    conn = pg_connection()
    with (
        connection.wrap_database_errors,
        psycopg.Cursor(conn) as record,
        psycopg.Cursor(conn) as stream,
    ):
        with postgres.first_pipeline(conn):
            postgres.lock_streams([stream_id, *also_lock])
            if command is not None:
                record.execute(postgres.RECORD_SQL, [command[0]])
            stream.execute(postgres.STREAM_FROM_SQL, [stream_id, from_version], binary=True)
        rows = stream.fetchall()
        found = record.fetchone() if command is not None else None
    prior = None
    if found is not None and command is not None:
        prior = idempotency.replay(idempotency.record_of(found), stream_id, command)
    return LockedStream(events=[recorded(row) for row in rows], prior=prior)


def lock_and_read_many(
    from_versions: dict[uuid.UUID, int], commands: Sequence[tuple[str, str, uuid.UUID]]
) -> tuple[dict[uuid.UUID, list[RecordedEvent]], dict[str, AppendResult]]:
    """What a batch of commands starts with (`CommandTransaction.append_many`): every stream
    locked, its events from its version in `from_versions` on, and the earlier result of
    each (key, fingerprint, stream) in `commands` used before. One round trip on PostgreSQL. A key
    used for another command raises `IdempotencyKeyReused`."""
    ids = sorted(from_versions)
    keys = [key for key, _, _ in commands]
    if connection.vendor != "postgresql":
        found = list(CommandRecord.objects.filter(key__in=keys))
        stored = Event.objects.filter(stream_id__in=ids).order_by("stream_id", "version")
        events = [recorded(row) for row in stored.values_list(*COLUMNS)]
        events = [e for e in events if e.version >= from_versions[e.stream_id]]
    else:
        conn = pg_connection()
        with (
            connection.wrap_database_errors,
            psycopg.Cursor(conn) as record,
            psycopg.Cursor(conn) as stream,
        ):
            with postgres.first_pipeline(conn):
                postgres.lock_streams(ids)
                if keys:
                    record.execute(postgres.RECORDS_SQL, [keys])
                stream.execute(
                    postgres.STREAMS_FROM_SQL, [ids, [from_versions[i] for i in ids]], binary=True
                )
            rows = stream.fetchall()
            found = [idempotency.record_of(row) for row in record.fetchall()] if keys else []
        events = [recorded(row) for row in rows]
    streams: dict[uuid.UUID, list[RecordedEvent]] = {sid: [] for sid in ids}
    for event in events:
        streams[event.stream_id].append(event)
    records = {r.key: r for r in found}
    priors = {
        key: idempotency.replay(records[key], stream_id, (key, fingerprint))
        for key, fingerprint, stream_id in commands
        if key in records
    }
    return streams, priors


def read_streams(
    stream_ids: Iterable[uuid.UUID], *, until_position: int | None = None
) -> dict[uuid.UUID, list[RecordedEvent]]:
    """Several streams in one query, each in version order (a stream with no events is
    left out); with `until_position`, only the events at or before that position."""
    wanted = sorted(set(stream_ids))
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        if until_position is None:
            events = postgres.select(postgres.STREAMS_SQL, [wanted])
        else:
            events = postgres.select(postgres.STREAMS_UNTIL_SQL, [wanted, until_position])
    else:
        rows = Event.objects.filter(stream_id__in=wanted)
        if until_position is not None:
            rows = rows.filter(position__lte=until_position)
        ordered = rows.order_by("stream_id", "version").values_list(*COLUMNS)
        events = [recorded(row) for row in ordered.iterator(chunk_size=2000)]
    streams: dict[uuid.UUID, list[RecordedEvent]] = defaultdict(list)
    for event in events:
        streams[event.stream_id].append(event)
    return dict(streams)


def read_stream(
    stream_id: uuid.UUID, *, recorded_until: dt.datetime | None = None
) -> list[RecordedEvent]:
    """A stream's events in version order; with `recorded_until`, as the store knew it then."""
    if connection.vendor == "postgresql":
        if recorded_until is None:
            return postgres.select(postgres.STREAM_FROM_SQL, [stream_id, 1])
        return postgres.select(postgres.STREAM_UNTIL_SQL, [stream_id, recorded_until])
    rows = Event.objects.filter(stream_id=stream_id)
    if recorded_until is not None:
        rows = rows.filter(recorded_at__lte=recorded_until)
    return [recorded(row) for row in rows.order_by("version").values_list(*COLUMNS)]


def read_latest_and_types(
    stream_id: uuid.UUID, *, up_to_version: int, limit: int, types: Sequence[str]
) -> tuple[list[RecordedEvent | UnreadableEvent], list[RecordedEvent | UnreadableEvent]]:
    """The last `limit` events of a stream up to `up_to_version`, newest first, and every
    event up to it whose type is one of `types`, oldest first, in one query: the screen pop's
    recent history and the visits and tests it names. A row this code cannot read (a newer
    release's event) comes back as an `UnreadableEvent` in its place: the pop still shows.

    A stream's versions run 1, 2, 3... with no gap (I2), so the latest `limit` are those
    above `up_to_version - limit`."""
    since = up_to_version - limit
    if connection.vendor == "postgresql":
        rows = postgres.select_rows(
            postgres.LATEST_AND_TYPES_SQL, [stream_id, up_to_version, since, list(types)]
        )
    else:
        stored = Event.objects.filter(stream_id=stream_id, version__lte=up_to_version).filter(
            Q(version__gt=since) | Q(event_type__in=types)
        )
        rows = list(stored.order_by("version").values_list(*COLUMNS))
    latest = {row[2]: recorded_or_unreadable(row) for row in rows if row[2] > since}
    typed = [latest.get(row[2]) or recorded_or_unreadable(row) for row in rows if row[3] in types]
    return [latest[version] for version in sorted(latest, reverse=True)], typed


def read_all(after_position: int, limit: int) -> list[RecordedEvent]:
    """Up to `limit` committed events with a position above `after_position`, in order.

    Safe to checkpoint on the last position returned: appends commit in position order,
    so no event below it can appear later (I4). Holes left by rolled-back appends are
    never filled and never waited for.
    """
    if connection.vendor == "postgresql":
        return postgres.select(postgres.ALL_SQL, [after_position, limit])
    rows = (
        Event.objects.filter(position__gt=after_position)
        .order_by("position")
        .values_list(*COLUMNS)[:limit]
    )
    return [recorded(row) for row in rows]


def read_for_followers(after_position: int, limit: int) -> list[RecordedEvent | UnreadableEvent]:
    """`read_all` for a catch-up projection: a row this code cannot read comes back as an
    `UnreadableEvent` in its place, so one bad row parks one stream, not the follower."""
    if connection.vendor == "postgresql":
        rows = postgres.select_rows(postgres.ALL_SQL, [after_position, limit])
    else:
        rows = list(
            Event.objects.filter(position__gt=after_position)
            .order_by("position")
            .values_list(*COLUMNS)[:limit]
        )
    return [recorded_or_unreadable(row) for row in rows]


def read_stream_for_followers(
    stream_id: uuid.UUID, *, from_position: int, upto_position: int
) -> list[RecordedEvent | UnreadableEvent]:
    """A stream's events with positions in [from_position, upto_position], read like
    `read_for_followers`: what a parked stream's retry replays."""
    if connection.vendor == "postgresql":
        rows = postgres.select_rows(
            postgres.STREAM_BETWEEN_SQL, [stream_id, from_position, upto_position]
        )
    else:
        rows = list(
            Event.objects.filter(
                stream_id=stream_id, position__gte=from_position, position__lte=upto_position
            )
            .order_by("position")
            .values_list(*COLUMNS)
        )
    return [recorded_or_unreadable(row) for row in rows]


def iter_by_stream(
    chunk_size: int = 5000, *, with_metadata: bool = True
) -> Iterator[RecordedEvent | UnreadableEvent]:
    """Every event, stream by stream in version order, streamed with constant memory; a
    row this code cannot read comes back as an `UnreadableEvent` (a rebuild parks it).

    A reader that never looks at who recorded what (the profile rebuild) passes
    `with_metadata=False`: every event then carries `{}` and the log is read faster.
    """
    if connection.vendor == "postgresql":
        yield from postgres.iter_by_stream(chunk_size, with_metadata)
        return
    columns = COLUMNS if with_metadata else COLUMNS[:6] + COLUMNS[7:]
    rows = Event.objects.order_by("stream_id", "version").values_list(*columns)
    for row in rows.iterator(chunk_size=chunk_size):
        yield recorded_or_unreadable(row if with_metadata else (*row[:6], {}, *row[6:]))


def last_position() -> int:
    last = Event.objects.order_by("-position").values_list("position", flat=True).first()
    return last or 0


def lock_streams(*stream_ids: uuid.UUID) -> None:
    """Queue this transaction behind any other command on the same streams.

    Commands on one patient then decide one after the other instead of failing each
    other with conflicts. Locks are taken in a fixed order so two multi-stream commands
    cannot deadlock. SQLite needs nothing: it already runs one writer at a time.
    """
    if connection.vendor == "postgresql":
        postgres.lock_streams(stream_ids)
