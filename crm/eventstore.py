"""The event store: the only writer of the event log.

`append` writes a batch of events to one stream under optimistic concurrency (I2) and an
optional idempotency key (I3). Global order (I4) is made gap-free by serializing appends:
on PostgreSQL each append takes a transaction-scoped advisory lock right before its INSERT
and holds it until commit, so positions are handed out in commit order and a reader of
"events after p" can never see p + 1 before p. On SQLite the database lock taken at BEGIN
IMMEDIATE already serializes writers. See docs/event-store.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection
from django.utils import timezone

from crm.domain.events import DomainEvent, deserialize
from crm.domain.events.base import build
from crm.domain.recorded import RecordedEvent
from crm.models import CommandRecord, Event

# Any fixed 64-bit number works; it only has to differ from other advisory locks we take.
APPEND_LOCK_KEY = 0x63726D5F617070  # "crm_app"

_COLUMNS = (
    "position",
    "stream_id",
    "version",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "occurred_at",
    "recorded_at",
)


class ConcurrencyConflict(Exception):
    """The stream moved since the caller read it (I2)."""

    def __init__(self, stream_id: uuid.UUID, expected: int, actual: int | None) -> None:
        found = "another writer got there first" if actual is None else f"it is at {actual}"
        super().__init__(
            f"Stream {stream_id} was expected at version {expected}, but {found}. "
            "Reload and try again."
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(Exception):
    """An idempotency key came back with a command for another patient."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    event: DomainEvent
    occurred_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: uuid.UUID
    version: int  # the stream's version after the append
    events: list[RecordedEvent] = field(default_factory=list)
    duplicate: bool = False  # True when an idempotency key matched an earlier command


def append(
    stream_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    expected_version: int,
    idempotency_key: str | None = None,
    metadata: dict[str, Any] | None = None,
    version_read_in_transaction: bool = False,
) -> AppendResult:
    """Append `events` to `stream_id`, which must be at `expected_version`.

    Must run inside a transaction (the caller's `transaction.atomic`): the events, the
    idempotency record and whatever the caller projects inline commit together.
    A caller that read the stream's version in this same transaction (the command
    handlers) passes `version_read_in_transaction=True` to skip re-reading it: the version
    cannot be ahead of the stream, and a writer that got there since is still caught by
    the unique (stream_id, version) index.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("append() must run inside transaction.atomic()")
    if idempotency_key is not None:
        prior = _claim_idempotency_key(idempotency_key, stream_id)
        if prior is not None:
            return prior
    if not version_read_in_transaction:
        actual = current_version(stream_id)
        if actual != expected_version:
            raise ConcurrencyConflict(stream_id, expected_version, actual)

    meta = dict(metadata or {})
    if idempotency_key is not None:
        meta["idempotency_key"] = idempotency_key
    rows = [_row(stream_id, expected_version + i + 1, new, meta) for i, new in enumerate(events)]

    version = expected_version + len(rows)
    if idempotency_key is not None:
        CommandRecord.objects.filter(key=idempotency_key).update(
            first_version=expected_version + 1, last_version=version
        )
    recorded: list[RecordedEvent] = []
    if rows:
        # From here to COMMIT every append in the database waits on us: keep it short.
        _take_append_lock()
        recorded_at = timezone.now()
        for row in rows:
            row.recorded_at = recorded_at
        try:
            Event.objects.bulk_create(rows)
        except IntegrityError:
            # No savepoint: the transaction is doomed either way, and the caller's atomic
            # block rolls it back as this exception passes through it.
            raise ConcurrencyConflict(stream_id, expected_version, None) from None
        recorded = [
            RecordedEvent(
                position=row.position,
                stream_id=stream_id,
                version=row.version,
                event=new.event,
                occurred_at=new.occurred_at,
                recorded_at=recorded_at,
                metadata=meta,
            )
            for row, new in zip(rows, events, strict=True)
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
    return None if record is None else _result_of(record)


def read_stream(
    stream_id: uuid.UUID, *, recorded_until: dt.datetime | None = None
) -> list[RecordedEvent]:
    """A stream's events in version order; with `recorded_until`, as the store knew it then."""
    rows = Event.objects.filter(stream_id=stream_id)
    if recorded_until is not None:
        rows = rows.filter(recorded_at__lte=recorded_until)
    return [_recorded(row) for row in rows.order_by("version").values_list(*_COLUMNS)]


def read_all(after_position: int, limit: int) -> list[RecordedEvent]:
    """Up to `limit` committed events with a position above `after_position`, in order.

    Safe to checkpoint on the last position returned: appends commit in position order,
    so no event below it can appear later (I4). Holes left by rolled-back appends are
    never filled and never waited for.
    """
    rows = (
        Event.objects.filter(position__gt=after_position)
        .order_by("position")
        .values_list(*_COLUMNS)[:limit]
    )
    return [_recorded(row) for row in rows]


def iter_by_stream(chunk_size: int = 5000) -> Iterator[RecordedEvent]:
    """Every event, stream by stream in version order, streamed with constant memory."""
    rows = Event.objects.order_by("stream_id", "version").values_list(*_COLUMNS)
    for row in rows.iterator(chunk_size=chunk_size):
        yield _recorded(row)


def last_position() -> int:
    last = Event.objects.order_by("-position").values_list("position", flat=True).first()
    return last or 0


# Two-key advisory locks live in their own key space, apart from the one-key append lock.
_PATIENT_LOCK_CLASS = 0x63726D  # "crm"


def lock_streams(*stream_ids: uuid.UUID) -> None:
    """Queue this transaction behind any other command on the same streams.

    Commands on one patient then decide one after the other instead of failing each
    other with conflicts. Locks are taken in a fixed order so two multi-stream commands
    cannot deadlock. SQLite needs nothing: it already runs one writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for stream_id in sorted(set(stream_ids)):
            key = int.from_bytes(stream_id.bytes[:4], "big", signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PATIENT_LOCK_CLASS, key])


def take_append_lock() -> None:
    """Hold off every append until the current transaction ends (used by rebuilds)."""
    _take_append_lock()


# --- internals ---------------------------------------------------------------------------


def _take_append_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])


def _claim_idempotency_key(key: str, stream_id: uuid.UUID) -> AppendResult | None:
    """Claim `key` for this transaction, or return the result of the command that owns it.

    The INSERT waits while another transaction holds the same key uncommitted, so two
    concurrent retries can never both append.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CommandRecord._meta.db_table} "
            "(key, stream_id, first_version, last_version, recorded_at) "
            "VALUES (%s, %s, 0, 0, %s) ON CONFLICT (key) DO NOTHING",
            [key, _db_uuid(stream_id), timezone.now()],
        )
        claimed = cursor.rowcount == 1
    if claimed:
        return None
    record = CommandRecord.objects.get(key=key)
    if record.stream_id != stream_id:
        raise IdempotencyKeyReused(
            f"Idempotency key {key!r} was already used for another patient's command."
        )
    return _result_of(record)


def _db_uuid(value: uuid.UUID) -> Any:
    return CommandRecord._meta.get_field("stream_id").get_db_prep_value(value, connection)


def _result_of(record: CommandRecord) -> AppendResult:
    rows = (
        Event.objects.filter(
            stream_id=record.stream_id,
            version__gte=record.first_version,
            version__lte=record.last_version,
        )
        .order_by("version")
        .values_list(*_COLUMNS)
    )
    return AppendResult(
        stream_id=record.stream_id,
        version=record.last_version,
        events=[_recorded(row) for row in rows],
        duplicate=True,
    )


def _row(stream_id: uuid.UUID, version: int, new: NewEvent, metadata: dict[str, Any]) -> Event:
    event = new.event
    data = event.to_data()
    build(type(event), data)  # refuse to store anything the reader could not read back
    if new.occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return Event(
        stream_id=stream_id,
        version=version,
        event_type=event.event_type,
        schema_version=event.schema_version,
        data=data,
        metadata=metadata,
        occurred_at=new.occurred_at,
    )


def _recorded(row: tuple[Any, ...]) -> RecordedEvent:
    position, stream_id, version, event_type, schema_version, data, meta, occurred, recorded = row
    return RecordedEvent(
        position=position,
        stream_id=stream_id,
        version=version,
        event=deserialize(event_type, schema_version, data),
        occurred_at=occurred,
        recorded_at=recorded,
        metadata=meta,
    )
