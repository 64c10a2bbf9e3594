"""Helpers for tests of parked streams: a row written past the event store, as a newer
release or a hand-edited import could leave it, and a stand-in for the code that reads it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from crm.domain.events import base
from crm.models import Event

FUTURE_TYPE = "LetterMailed"  # a type this release does not know


def insert_raw(
    stream_id: uuid.UUID,
    *,
    event_type: str = FUTURE_TYPE,
    data: dict[str, object] | None = None,
    schema_version: int = 1,
    metadata: dict[str, object] | None = None,
) -> int:
    """Append a row by plain SQL, skipping every check of the store; returns its position."""
    version = (
        Event.objects.filter(stream_id=stream_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
        or 0
    ) + 1
    now = dt.datetime.now(dt.UTC)
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    stream = Event._meta.get_field("stream_id").get_db_prep_value(stream_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_event (stream_id, version, event_type, schema_version, data, "
            f"metadata, occurred_at, recorded_at) VALUES (%s, %s, %s, %s, %s{jsonb}, "
            f"%s{jsonb}, %s, %s)",
            [
                stream,
                version,
                event_type,
                schema_version,
                json.dumps(data or {"sent_to": "home address"}),
                json.dumps(metadata or {}),
                now,
                now,
            ],
        )
    return Event.objects.get(stream_id=stream_id, version=version).position


@contextmanager
def release_that_knows_letters() -> Iterator[None]:
    """The fix deployed: this code now knows `LetterMailed` (gone again afterwards)."""

    @dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
    class LetterMailed(base.DomainEvent):
        sent_to: str

    base.registered(FUTURE_TYPE)(LetterMailed)
    try:
        yield
    finally:
        base._REGISTRY.pop(FUTURE_TYPE, None)
