"""What the event store hands back and refuses with, and how a stored row becomes a
`RecordedEvent`: shared by the store's ORM and PostgreSQL paths."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm.domain.events import DomainEvent, load_stored
from crm.domain.recorded import RecordedEvent

COLUMNS = (
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

# Called with the events about to be appended, in the append's transaction, before the
# append lock is taken. Their positions are not known yet (0): an inline projection that
# needs only the stream's versions and times (the profile) can be written outside the
# serialized section.
InlineProjection = Callable[[list[RecordedEvent]], object]


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
    """An idempotency key came back with another command: for another patient, or
    with another fingerprint (crm.eventstore.fingerprints)."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    event: DomainEvent
    occurred_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One command's append in a batch (`CommandTransaction.append_many`): its stream, at
    `expected_version` once the batch's earlier appends to it are counted, its metadata."""

    stream_id: uuid.UUID
    events: tuple[NewEvent, ...]
    expected_version: int
    metadata: dict[str, Any]
    idempotency_key: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    stream_id: uuid.UUID
    version: int  # the stream's version after the append
    events: list[RecordedEvent] = field(default_factory=list)
    duplicate: bool = False  # True when an idempotency key matched an earlier command


@dataclass(frozen=True, slots=True)
class UnreadableEvent:
    """A stored row this code cannot turn into an event (unknown type or schema version,
    data the event class refuses): a follower parks its stream instead of stopping, and a
    timeline shows that an entry is there without what it says."""

    position: int
    stream_id: uuid.UUID
    version: int
    event_type: str
    error: str
    # What the row says around its data, for a reader that shows that something is there.
    schema_version: int
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LockedStream:
    """A stream read under its command lock, and the earlier result of the command's key."""

    events: list[RecordedEvent]
    prior: AppendResult | None = None  # set when the idempotency key was used before


def recorded(row: tuple[Any, ...]) -> RecordedEvent:
    position, stream_id, version, event_type, schema_version, data, meta, occurred, recorded = row
    return RecordedEvent(
        position=position,
        stream_id=stream_id,
        version=version,
        event=load_stored(event_type, schema_version, data),
        occurred_at=occurred,
        recorded_at=recorded,
        metadata=meta if meta is not None else {},
    )


def recorded_or_unreadable(row: tuple[Any, ...]) -> RecordedEvent | UnreadableEvent:
    try:
        return recorded(row)
    except Exception as exc:  # any decoding failure is this row's, not the reader's
        position, stream_id, version, event_type, schema_version, _, meta, occurred, at = row
        return UnreadableEvent(
            position,
            stream_id,
            version,
            event_type,
            describe(exc),
            schema_version,
            occurred,
            at,
            meta if isinstance(meta, dict) else {},
        )


def stored_or_unreadable(stored: Any) -> RecordedEvent | UnreadableEvent:
    """`recorded_or_unreadable` for a stored row as a model instance (the ORM's `Event`, or
    anything with the COLUMNS as attributes)."""
    return recorded_or_unreadable(tuple(getattr(stored, column) for column in COLUMNS))


def describe(exc: BaseException) -> str:
    """An exception as an operator reads it: its type and its message, bounded."""
    # No NUL or lone surrogate: the text is stored (a parked stream's reason).
    text = f"{type(exc).__name__}: {exc}".replace("\x00", "\\x00")
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 2000 else text[:1997] + "..."
