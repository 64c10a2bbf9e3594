"""Parked streams (I11): a stream a projection could not apply waits, with the reason,
while every other stream goes on; an operator retries it once the cause is fixed."""

from __future__ import annotations

import uuid

from django.db.models import F
from django.utils import timezone

from crm.domain.recorded import RecordedEvent
from crm.eventstore import UnreadableEvent
from crm.models import ParkedStream


def parked_streams(projection: str) -> set[uuid.UUID]:
    return set(
        ParkedStream.objects.filter(projection=projection).values_list("stream_id", flat=True)
    )


def park(projection: str, event: RecordedEvent | UnreadableEvent, error: str) -> None:
    park_at(
        projection,
        event.stream_id,
        position=event.position,
        event_type=event.event_type,
        error=error,
    )


def park_at(
    projection: str, stream_id: uuid.UUID, *, position: int, event_type: str, error: str
) -> None:
    """Park `stream_id` from log position `position` on (an empty `event_type`: the
    stream's evaluation failed, not one event)."""
    ParkedStream.objects.update_or_create(
        projection=projection,
        stream_id=stream_id,
        defaults={
            "position": position,
            "event_type": event_type[:100],
            "error": error,
            "parked_at": timezone.now(),
        },
    )


def take(projection: str, stream_id: object) -> ParkedStream | None:
    """The parked row, locked until this transaction ends (one retry at a time)."""
    return (
        ParkedStream.objects.select_for_update()
        .filter(projection=projection, stream_id=_uuid(stream_id))
        .first()
    )


def failed_again(parked: ParkedStream) -> None:
    """The retry parked the stream anew (at the event that failed now): count the try."""
    ParkedStream.objects.filter(pk=parked.pk).update(
        attempts=F("attempts") + 1, retried_at=timezone.now()
    )


def release(parked: ParkedStream) -> None:
    ParkedStream.objects.filter(pk=parked.pk).delete()


def clear(projection: str) -> None:
    ParkedStream.objects.filter(projection=projection).delete()


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
