"""Writing to the log: `append`, and the transaction a command runs in, which says who commits."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.domain.events.base import build
from crm.domain.recorded import RecordedEvent
from crm.eventstore import idempotency, postgres
from crm.eventstore.records import (
    AppendResult,
    ConcurrencyConflict,
    InlineProjection,
    NewEvent,
    StreamAppend,
)
from crm.models import Event


class CommandTransaction:
    """The transaction a command runs in (see `command_transaction`), and its appends."""

    def __init__(self, *, commits: bool) -> None:
        self.commits = commits  # False: the caller's atomic block commits
        self.closed = False

    def append(
        self,
        stream_id: uuid.UUID,
        events: Sequence[NewEvent],
        *,
        expected_version: int,
        metadata: dict[str, Any],
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        inline: InlineProjection | None = None,
        last: bool = False,
    ) -> AppendResult:
        """`append`, with the stream's version read under its lock in this transaction.
        `last=True` says nothing follows: when the store owns the transaction, its COMMIT
        then travels with the INSERT."""
        if self.closed:
            raise RuntimeError("The command's transaction has ended: nothing more can be appended.")
        self.closed = last
        return _append(
            stream_id,
            events,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            metadata=metadata,
            version_read_in_transaction=True,
            inline=inline,
            commit=last and self.commits,
        )

    def append_many(
        self,
        appends: Sequence[StreamAppend],
        *,
        recorded_at: dt.datetime,
        inline: Callable[[], object] | None = None,
    ) -> list[AppendResult]:
        """Several commands' appends, in this order, as the last of this transaction: each
        command's key claimed, `inline` (the profiles), the append lock, the events in one
        INSERT in the appends' order, the followers' wake-up and, when the store owns the
        transaction, COMMIT: one round trip on PostgreSQL.

        The caller read every stream under its lock in this transaction and looked the keys
        up there: a key claimed since (by a command on another stream) or a version taken
        raises `ConcurrencyConflict`, and the whole transaction rolls back. `recorded_at`
        is the caller's, taken in this transaction before the lock (its decisions carried
        the states on with it), so the states it projects inline are the log's.
        """
        if self.closed:
            raise RuntimeError("The command's transaction has ended: nothing more can be appended.")
        self.closed = True
        if not connection.in_atomic_block:
            raise RuntimeError("append_many() must run inside the command's transaction")
        pending: list[list[RecordedEvent]] = []
        data: list[dict[str, Any]] = []
        for item in appends:
            first = item.expected_version + 1
            pending.append(
                [
                    RecordedEvent(
                        0, item.stream_id, v, new.event, new.occurred_at, recorded_at, item.metadata
                    )
                    for v, new in enumerate(item.events, start=first)
                ]
            )
            data += [_checked_data(new) for new in item.events]
        claims = [  # (key, fingerprint, the append, its last version)
            (
                *idempotency.bound(a.idempotency_key, a.fingerprint),
                a,
                a.expected_version + len(a.events),
            )
            for a in appends
            if a.idempotency_key is not None
        ]
        flat = [e for events in pending for e in events]
        if connection.vendor == "postgresql":
            outermost = len(connection.atomic_blocks) == 1 and not connection.savepoint_ids
            positions = postgres.insert_many(
                flat,
                data,
                [
                    (key, a.stream_id, a.expected_version + 1, last, recorded_at, fp)
                    for key, fp, a, last in claims
                ],
                inline,
                commit=self.commits and outermost,
            )
        else:
            positions = _insert_many_orm(flat, data, claims, inline, recorded_at)
        results = []
        for item, events in zip(appends, pending, strict=True):
            stored = [_at_position(e, positions[(e.stream_id, e.version)]) for e in events]
            version = item.expected_version + len(events)
            results.append(AppendResult(stream_id=item.stream_id, version=version, events=stored))
        return results


@contextlib.contextmanager
def command_transaction(*, in_callers: bool = False) -> Iterator[CommandTransaction]:
    """The transaction a command runs in. Who commits it, in one place:

    - by default the store does. It opens a durable transaction; on PostgreSQL the COMMIT
      travels with the command's last INSERT (`append(..., last=True)`), so the append lock
      is released as soon as the server has flushed the commit, without waiting for this
      process to be scheduled again to send it. Leaving the block then finds the
      transaction committed and only runs its on-commit hooks. A command that appends
      nothing, SQLite, and a block nested in another (a test case) commit as the block ends.
    - `in_callers=True`: inside the caller's open atomic block (the reminder dispatcher
      records a batch with its outbox rows), which alone commits; appends never do.

    `crm.handlers.base.execute` is its only user.
    """
    if not in_callers:
        with transaction.atomic(durable=True):
            yield CommandTransaction(commits=True)
        return
    if not connection.in_atomic_block:
        raise RuntimeError("A command in the caller's transaction needs transaction.atomic().")
    with transaction.atomic(savepoint=False):
        yield CommandTransaction(commits=False)


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
) -> AppendResult:
    """Append `events` to `stream_id`, which must be at `expected_version`, in the caller's
    transaction (its `transaction.atomic` commits the events, the idempotency record and
    whatever it projected inline together). Commands go through `command_transaction`.

    A caller that read the stream's version in this same transaction passes
    `version_read_in_transaction=True` to skip re-reading it: the version cannot be ahead
    of the stream, and a writer that got there since is still caught by the unique
    (stream_id, version) index.
    An `idempotency_key` comes with the `fingerprint` of its command
    (crm.eventstore.fingerprints): the key then replays that command's result, and refuses
    any other command (`IdempotencyKeyReused`).
    `inline` (see `InlineProjection`) runs once the key is claimed and before the append
    lock; on PostgreSQL its statements travel with the INSERT in one round trip.
    `metadata` is stored as given (crm.handlers.base.event_metadata builds it).
    """
    return _append(
        stream_id,
        events,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        metadata=metadata or {},
        version_read_in_transaction=version_read_in_transaction,
        inline=inline,
        commit=False,
    )


def _append(
    stream_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    expected_version: int,
    idempotency_key: str | None,
    fingerprint: str | None,
    metadata: dict[str, Any],
    version_read_in_transaction: bool,
    inline: InlineProjection | None,
    commit: bool,
) -> AppendResult:
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
    pending = _pending(stream_id, events, expected_version, dict(metadata))
    data = [_checked_data(new) for new in events]
    positions = _insert(pending, data, inline, commit=commit)
    stored = [_at_position(e, positions[e.version]) for e in pending]
    return AppendResult(stream_id=stream_id, version=version, events=stored)


def _pending(
    stream_id: uuid.UUID,
    events: Sequence[NewEvent],
    expected_version: int,
    metadata: dict[str, Any],
) -> list[RecordedEvent]:
    """The events as they will be recorded, but for their positions (0 until inserted)."""
    # Taken before the append lock: within a stream the command lock already orders it,
    # and across streams nothing reads recorded_at in position order.
    recorded_at = timezone.now()
    return [
        RecordedEvent(
            position=0,
            stream_id=stream_id,
            version=version,
            event=new.event,
            occurred_at=new.occurred_at,
            recorded_at=recorded_at,
            metadata=metadata,
        )
        for version, new in enumerate(events, start=expected_version + 1)
    ]


def _insert(
    pending: list[RecordedEvent],
    data: list[dict[str, Any]],
    inline: InlineProjection | None,
    *,
    commit: bool,
) -> dict[int, int]:
    """Insert the events (after the inline projection); each version's position."""
    if connection.vendor == "postgresql":
        # Django's own record of open atomic blocks: only the command's, no savepoint.
        outermost = len(connection.atomic_blocks) == 1 and not connection.savepoint_ids
        return postgres.insert(pending, data, inline, commit=commit and outermost)
    if inline is not None:
        inline(pending)
    rows = _insert_orm(pending, data)
    return {row.version: row.position for row in rows}


def _insert_many_orm(
    flat: list[RecordedEvent],
    data: list[dict[str, Any]],
    claims: list[tuple[str, str, StreamAppend, int]],
    inline: Callable[[], object] | None,
    recorded_at: dt.datetime,
) -> dict[tuple[uuid.UUID, int], int]:
    """`append_many` through the ORM (SQLite: one writer at a time already)."""
    for key, fp, item, last in claims:
        if idempotency.claim((key, fp), item.stream_id, item.expected_version, last) is not None:
            raise ConcurrencyConflict(item.stream_id, item.expected_version, None)
    if inline is not None:
        inline()
    rows = _insert_orm(flat, data)
    return {(row.stream_id, row.version): row.position for row in rows}


def _insert_orm(pending: list[RecordedEvent], data: list[dict[str, Any]]) -> list[Event]:
    """Insert the events through the ORM under the append lock; the rows, with positions.
    A version already taken is a conflict on the first event's stream."""
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
        first = pending[0]
        raise ConcurrencyConflict(first.stream_id, first.version - 1, None) from None
    return rows


def _at_position(pending: RecordedEvent, position: int) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        stream_id=pending.stream_id,
        version=pending.version,
        event=pending.event,
        occurred_at=pending.occurred_at,
        recorded_at=pending.recorded_at,
        metadata=pending.metadata,
    )


def _checked_data(new: NewEvent) -> dict[str, Any]:
    """The event's stored data, refused if the reader could not read it back."""
    if new.occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    event = new.event
    data = event.to_data()
    build(type(event), data)
    return data


def current_version(stream_id: uuid.UUID) -> int:
    last = (
        Event.objects.filter(stream_id=stream_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return last or 0


def take_append_lock() -> None:
    """Hold off every other append until the current transaction ends (appends and
    rebuilds take it; on SQLite, BEGIN IMMEDIATE already does)."""
    if connection.vendor == "postgresql":
        postgres.take_append_lock()
