"""Events as the API shows them: timeline entries (summary from crm.timeline) and recorded
events (what a command just stored); restricted note text is withheld from non-clinicians."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from crm import timeline
from crm.domain import events as ev
from crm.domain import moments
from crm.domain.events import load_stored
from crm.domain.recorded import RecordedEvent
from crm.models import Event


def zone_of(timezone_name: str | None) -> zoneinfo.ZoneInfo:
    """The patient's zone; the clinic's when none is set or the name is not a zone."""
    return moments.zone_named(timezone_name, settings.TIME_ZONE)


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


def timeline_entries(
    rows: Sequence[Event], *, zone: zoneinfo.ZoneInfo, restricted_visible: bool
) -> list[dict[str, Any]]:
    """A page of stored rows as timeline entries (one more query at most, to name the
    visits and tests the page refers to)."""
    return recorded_timeline_entries(
        [_recorded(row) for row in rows], zone=zone, restricted_visible=restricted_visible
    )


def timeline_entry(
    row: Event, *, zone: zoneinfo.ZoneInfo, restricted_visible: bool
) -> dict[str, Any]:
    return timeline_entries([row], zone=zone, restricted_visible=restricted_visible)[0]


def _recorded(row: Event) -> RecordedEvent:
    return RecordedEvent(
        position=row.position,
        stream_id=row.stream_id,
        version=row.version,
        event=load_stored(row.event_type, row.schema_version, row.data),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        metadata=row.metadata or {},
    )


def recorded_timeline_entries(
    recorded: Sequence[RecordedEvent],
    *,
    zone: zoneinfo.ZoneInfo,
    restricted_visible: bool,
    references: timeline.References | None = None,
) -> list[dict[str, Any]]:
    """Entries for events of one stream; `references` when the caller has read what they
    name already, otherwise looked up here (a query when some event names a visit)."""
    if not recorded:
        return []
    if references is None:
        references = timeline.references_for(
            recorded[0].stream_id, [(r.version, r.event) for r in recorded]
        )
    return [
        recorded_timeline_entry(
            r, zone=zone, restricted_visible=restricted_visible, references=references
        )
        for r in recorded
    ]


def recorded_timeline_entry(
    recorded: RecordedEvent,
    *,
    zone: zoneinfo.ZoneInfo,
    restricted_visible: bool,
    references: timeline.References | None = None,
) -> dict[str, Any]:
    entry = from_recorded(recorded, restricted_visible=restricted_visible)
    entry["summary"] = timeline.describe(
        recorded.event,
        version=recorded.version,
        zone=zone,
        clinic=moments.zone_named(settings.TIME_ZONE),
        references=references,
        restricted_visible=restricted_visible,
    ).sentence
    return entry
