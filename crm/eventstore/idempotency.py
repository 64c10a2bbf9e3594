"""The idempotency records (I3): a key claimed in the append's transaction, bound to the
stream and the fingerprint of the command that first used it (crm.eventstore.fingerprints)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection
from django.utils import timezone

from crm.eventstore.records import COLUMNS, AppendResult, IdempotencyKeyReused, recorded
from crm.models import CommandRecord, Event

# An idempotency key and the fingerprint of the command it comes with.
Command = tuple[str, str]


def bound(key: str, fingerprint: str | None) -> Command:
    """A key with its command's fingerprint; a key without one would bind to nothing."""
    if not fingerprint:
        raise ValueError(
            f"Idempotency key {key!r} came without the fingerprint of its command "
            "(crm.eventstore.fingerprints.fingerprint)."
        )
    return key, fingerprint


def claim(
    command: Command, stream_id: uuid.UUID, expected_version: int, version: int
) -> AppendResult | None:
    """Claim the key for this transaction, or return the result of the command that owns
    it (if it is this same command).

    The INSERT waits while another transaction holds the same key uncommitted, so two
    concurrent retries can never both append.
    """
    key, fingerprint = command
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CommandRecord._meta.db_table} "
            "(key, stream_id, first_version, last_version, recorded_at, fingerprint) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
            [
                key,
                _db_uuid(stream_id),
                expected_version + 1,
                version,
                timezone.now(),
                fingerprint,
            ],
        )
        claimed = cursor.rowcount == 1
    if claimed:
        return None
    return replay(CommandRecord.objects.get(key=key), stream_id, command)


def replay(record: CommandRecord, stream_id: uuid.UUID, command: Command) -> AppendResult:
    """The first result of the command that owns the key, refused to any other command."""
    key, fingerprint = command
    if record.stream_id != stream_id:
        raise IdempotencyKeyReused(
            f"Idempotency key {key!r} was already used for another patient's command."
        )
    # An empty fingerprint: a record from before they were kept, bound to no command.
    if record.fingerprint and record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency key {key!r} was already used for a different command."
        )
    return result_of(record)


def _db_uuid(value: uuid.UUID) -> Any:
    return CommandRecord._meta.get_field("stream_id").get_db_prep_value(value, connection)


def record_of(row: tuple[Any, ...]) -> CommandRecord:
    key, stream_id, first_version, last_version, recorded_at, fingerprint = row
    return CommandRecord(
        key=key,
        stream_id=stream_id,
        first_version=first_version,
        last_version=last_version,
        recorded_at=recorded_at,
        fingerprint=fingerprint,
    )


def result_of(record: CommandRecord) -> AppendResult:
    rows = (
        Event.objects.filter(
            stream_id=record.stream_id,
            version__gte=record.first_version,
            version__lte=record.last_version,
        )
        .order_by("version")
        .values_list(*COLUMNS)
    )
    return AppendResult(
        stream_id=record.stream_id,
        version=record.last_version,
        events=[recorded(row) for row in rows],
        duplicate=True,
    )
