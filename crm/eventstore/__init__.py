"""The event store: the only writer of the event log.

`append` writes a batch of events to one stream under optimistic concurrency (I2) and an
optional idempotency key (I3). Global order (I4) is made gap-free by serializing appends:
on PostgreSQL each append takes a transaction-scoped advisory lock right before its INSERT
and holds it until commit, so positions are handed out in commit order and a reader of
"events after p" can never see p + 1 before p. On SQLite the database lock taken at BEGIN
IMMEDIATE already serializes writers. See docs/event-store.md.

On PostgreSQL the hot paths (reading a stream, appending, the command's first round trip)
run as plain SQL on Django's psycopg connection (crm.eventstore.postgres); SQLite goes
through the ORM. crm.eventstore.records holds what both hand back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from django.db import IntegrityError, connection
from django.utils import timezone

from crm.domain.events.base import build
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
    UnreadableEvent,
    recorded,
    recorded_or_unreadable,
)
from crm.models import CommandRecord, Event

__all__ = [
    "APPEND_LOCK_KEY",
    "AppendResult",
    "ConcurrencyConflict",
    "IdempotencyKeyReused",
    "InlineProjection",
    "LockedStream",
    "NewEvent",
    "UnreadableEvent",
    "append",
    "command_result",
    "current_version",
    "iter_by_stream",
    "last_position",
    "lock_and_read",
    "lock_streams",
    "pg_connection",
    "read_all",
    "read_for_followers",
    "read_latest",
    "read_stream",
    "read_stream_for_followers",
    "take_append_lock",
]


def append(
    stream_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    expected_version: int,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    metadata: dict[str, Any] | None = None,
    version_read_in_transaction: bool = False,
    inline: InlineProjection | None = None,
    commit: bool = False,
) -> AppendResult:
    """Append `events` to `stream_id`, which must be at `expected_version`.

    Must run inside a transaction (the caller's `transaction.atomic`): the events, the
    idempotency record and whatever the caller projects inline commit together.
    A caller that read the stream's version in this same transaction (the command
    handlers) passes `version_read_in_transaction=True` to skip re-reading it: the version
    cannot be ahead of the stream, and a writer that got there since is still caught by
    the unique (stream_id, version) index.
    An `idempotency_key` comes with the `fingerprint` of its command
    (crm.eventstore.fingerprints): the key then replays that command's result, and refuses
    any other command (`IdempotencyKeyReused`).
    `inline` (see `InlineProjection`) runs once the key is claimed and before the append
    lock; on PostgreSQL its statements travel with the INSERT in one round trip.

    `commit=True` says the append is the last thing the caller's transaction does (the
    command handlers). On PostgreSQL, when that transaction is the outermost one, COMMIT
    then travels with the INSERT, so the append lock is released as soon as the server
    has flushed the commit, without waiting for this process to be scheduled again to
    send it; the caller's `transaction.atomic` finds the transaction already committed
    and only runs its on-commit hooks. Inside an enclosing atomic block (a test case, a
    savepoint) the flag does nothing and the outermost block commits as usual.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("append() must run inside transaction.atomic()")
    version = expected_version + len(events)
    if idempotency_key is not None:
        command = idempotency.bound(idempotency_key, fingerprint)
        prior = idempotency.claim(command, stream_id, expected_version, version)
        if prior is not None:
            return prior
    if not version_read_in_transaction:
        actual = current_version(stream_id)
        if actual != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, actual)
    if not events:
        return AppendResult(stream_id=stream_id, version=version)

    meta = dict(metadata or {})
    if idempotency_key is not None:
        meta["idempotency_key"] = idempotency_key
    # Taken before the append lock: within a stream the command lock already orders it,
    # and across streams nothing reads recorded_at in position order.
    recorded_at = timezone.now()
    pending: list[RecordedEvent] = []
    data: list[dict[str, Any]] = []
    for version_, new in enumerate(events, start=expected_version + 1):
        data.append(_checked_data(new))
        pending.append(
            RecordedEvent(
                position=0,
                stream_id=stream_id,
                version=version_,
                event=new.event,
                occurred_at=new.occurred_at,
                recorded_at=recorded_at,
                metadata=meta,
            )
        )
    if connection.vendor == "postgresql":
        # Django's own record of open atomic blocks: only the caller's, no savepoint.
        outermost = len(connection.atomic_blocks) == 1 and not connection.savepoint_ids
        positions = postgres.insert(pending, data, inline, commit=commit and outermost)
    else:
        if inline is not None:
            inline(pending)
        positions = _orm_insert(pending, data)
    recorded = [
        RecordedEvent(
            position=positions[e.version],
            stream_id=stream_id,
            version=e.version,
            event=e.event,
            occurred_at=e.occurred_at,
            recorded_at=recorded_at,
            metadata=meta,
        )
        for e in pending
    ]
    return AppendResult(stream_id=stream_id, version=version, events=recorded)


def current_version(stream_id: uuid.UUID) -> int:
    last = (
        Event.objects.filter(stream_id=stream_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return last or 0


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
) -> LockedStream:
    """What a command starts with: `lock_streams(stream_id)`, the earlier result of its
    idempotency key if any, and the stream's events from `from_version` on (a caller that
    kept the state up to some version reads only what came after). One round trip on
    PostgreSQL. A key already used for another command (another stream, or another
    `fingerprint`) raises `IdempotencyKeyReused`."""
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
        with conn.pipeline():
            postgres.lock_streams([stream_id])
            if command is not None:
                record.execute(postgres.RECORD_SQL, [command[0]])
            stream.execute(postgres.STREAM_FROM_SQL, [stream_id, from_version], binary=True)
        rows = stream.fetchall()
        found = record.fetchone() if command is not None else None
    prior = None
    if found is not None and command is not None:
        prior = idempotency.replay(idempotency.record_of(found), stream_id, command)
    return LockedStream(events=[recorded(row) for row in rows], prior=prior)


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


def read_latest(stream_id: uuid.UUID, *, up_to_version: int, limit: int) -> list[RecordedEvent]:
    """The last `limit` events of a stream up to `up_to_version`, newest first."""
    if connection.vendor == "postgresql":
        return postgres.select(postgres.LATEST_SQL, [stream_id, up_to_version, limit])
    rows = Event.objects.filter(stream_id=stream_id, version__lte=up_to_version)
    return [recorded(row) for row in rows.order_by("-version").values_list(*COLUMNS)[:limit]]


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


def take_append_lock() -> None:
    """Hold off every other append until the current transaction ends (appends and
    rebuilds take it; on SQLite, BEGIN IMMEDIATE already does)."""
    if connection.vendor == "postgresql":
        postgres.take_append_lock()


def _orm_insert(pending: list[RecordedEvent], data: list[dict[str, Any]]) -> dict[int, int]:
    take_append_lock()
    rows = [
        Event(
            stream_id=e.stream_id,
            version=e.version,
            event_type=e.event_type,
            schema_version=e.event.schema_version,
            data=values,
            metadata=e.metadata,
            occurred_at=e.occurred_at,
            recorded_at=e.recorded_at,
        )
        for e, values in zip(pending, data, strict=True)
    ]
    try:
        Event.objects.bulk_create(rows)
    except IntegrityError:
        raise ConcurrencyConflict(pending[0].stream_id, pending[0].version - 1, None) from None
    return {row.version: row.position for row in rows}


def _checked_data(new: NewEvent) -> dict[str, Any]:
    """The event's stored data, refused if the reader could not read it back."""
    if new.occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    event = new.event
    data = event.to_data()
    build(type(event), data)
    return data
