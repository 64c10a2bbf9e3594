"""Events as the API shows them: timeline entries (with a summary) and recorded events
(what a command just stored). Restricted note text is withheld from non-clinicians."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings

from crm.api.summaries import summarize
from crm.domain import events as ev
from crm.domain.events import load_stored
from crm.domain.recorded import RecordedEvent
from crm.models import Event


def zone_of(timezone_name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(timezone_name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def recorded_entry(
    *,
    version: int,
    event: ev.DomainEvent,
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    metadata: dict[str, Any],
    restricted_visible: bool,
) -> dict[str, Any]:
    data = event.to_data()
    redacted = False
    if isinstance(event, ev.NoteAdded) and event.restricted and not restricted_visible:
        data["text"] = None
        redacted = True
    return {
        "version": version,
        "type": event.event_type,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "recorded_by": {
            "name": str(metadata.get("actor") or ""),
            "role": str(metadata.get("role") or ""),
            "channel": str(metadata.get("channel") or ""),
        },
        "redacted": redacted,
        "data": data,
    }


def from_recorded(recorded: RecordedEvent, *, restricted_visible: bool) -> dict[str, Any]:
    return recorded_entry(
        version=recorded.version,
        event=recorded.event,
        occurred_at=recorded.occurred_at,
        recorded_at=recorded.recorded_at,
        metadata=recorded.metadata,
        restricted_visible=restricted_visible,
    )


def timeline_entry(
    row: Event, *, zone: zoneinfo.ZoneInfo, restricted_visible: bool
) -> dict[str, Any]:
    return recorded_timeline_entry(
        RecordedEvent(
            position=row.position,
            stream_id=row.stream_id,
            version=row.version,
            event=load_stored(row.event_type, row.schema_version, row.data),
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            metadata=row.metadata or {},
        ),
        zone=zone,
        restricted_visible=restricted_visible,
    )


def recorded_timeline_entry(
    recorded: RecordedEvent, *, zone: zoneinfo.ZoneInfo, restricted_visible: bool
) -> dict[str, Any]:
    entry = from_recorded(recorded, restricted_visible=restricted_visible)
    entry["summary"] = summarize(recorded.event, zone=zone, restricted_visible=restricted_visible)
    return entry
