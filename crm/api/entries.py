"""Events as the API shows them: timeline entries (summary from crm.timeline) and recorded
events (what a command just stored); restricted note text is withheld from non-clinicians."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from crm import timeline
from crm.api.serializers import RECORDED_CHANNELS
from crm.domain import events as ev
from crm.domain import moments
from crm.domain.recorded import RecordedEvent
from crm.eventstore.records import UnreadableEvent, stored_or_unreadable
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
        "recorded_by": recorded_by(metadata),
        "redacted": redacted,
        "data": data,
    }


def recorded_by(metadata: dict[str, Any]) -> dict[str, Any]:
    """Who recorded an event and by which door: the channel is null when the record does not
    name one this API knows (a row written before channels were recorded, or by a newer
    release), so a client checking the schema's enum never meets a value outside it."""
    channel = metadata.get("channel")
    return {
        "name": str(metadata.get("actor") or ""),
        "role": str(metadata.get("role") or ""),
        "channel": channel if channel in RECORDED_CHANNELS else None,
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
        [stored_or_unreadable(row) for row in rows],
        zone=zone,
        restricted_visible=restricted_visible,
    )


def timeline_entry(
    row: Event, *, zone: zoneinfo.ZoneInfo, restricted_visible: bool
) -> dict[str, Any]:
    return timeline_entries([row], zone=zone, restricted_visible=restricted_visible)[0]


def recorded_timeline_entries(
    recorded: Sequence[RecordedEvent | UnreadableEvent],
    *,
    zone: zoneinfo.ZoneInfo,
    restricted_visible: bool,
    references: timeline.References | None = None,
) -> list[dict[str, Any]]:
    """Entries for events of one stream; `references` when the caller has read what they
    name already, otherwise looked up here (a query when some event names a visit). An
    event this release cannot read shows as an entry that says so (`unreadable_entry`)."""
    if not recorded:
        return []
    if references is None:
        references = timeline.references_for(
            recorded[0].stream_id,
            [(r.version, r.event) for r in recorded if isinstance(r, RecordedEvent)],
        )
    return [
        recorded_timeline_entry(
            r, zone=zone, restricted_visible=restricted_visible, references=references
        )
        if isinstance(r, RecordedEvent)
        else unreadable_entry(r)
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
    entry["readable"] = True
    return entry


def unreadable_entry(unreadable: UnreadableEvent) -> dict[str, Any]:
    """A timeline entry for an event a newer release wrote (or this one cannot decode): that
    it is there, when and by whom, and none of its data, which this release cannot vouch for
    (a restricted note's text among it)."""
    return {
        "version": unreadable.version,
        "type": unreadable.event_type,
        "occurred_at": unreadable.occurred_at,
        "recorded_at": unreadable.recorded_at,
        "recorded_by": recorded_by(unreadable.metadata),
        "redacted": False,
        "readable": False,
        "data": {},
        "summary": timeline.unreadable(unreadable.event_type, unreadable.schema_version).sentence,
    }
