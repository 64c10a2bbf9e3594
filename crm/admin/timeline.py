"""A patient's timeline as the front desk reads it: newest first, one line per event from
crm.timeline's describer, restricted note text shown only to those who may read it."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crm import timeline
from crm.admin import formatting as fmt
from crm.domain import events as ev
from crm.domain import moments
from crm.domain.recorded import RecordedEvent
from crm.eventstore.records import UnreadableEvent, stored_or_unreadable
from crm.models import Event

PAGE_SIZE = 50
log = logging.getLogger(__name__)

# Entered this much later than it happened: say so, a late entry can matter clinically.
_LATE_ENTRY = dt.timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Entry:
    version: int
    kind: str  # what the line is about, for its marker: call, note, visit, crisis...
    title: str
    detail: str
    when: str  # when it happened, in the patient's zone
    entered: str  # when it was recorded, only when that was noticeably later
    who: str
    restricted: bool = False
    times: tuple[timeline.Time, ...] = ()  # the times the title and detail mention


@dataclass(frozen=True, slots=True)
class TimelinePage:
    entries: list[Entry]
    older_than: int | None  # ask for versions below this for the next page; None at the end


def timeline_page(
    *,
    patient_id: uuid.UUID,
    zone_name: str,
    include_restricted: bool,
    older_than: int | None = None,
    size: int = PAGE_SIZE,
) -> TimelinePage:
    """One page of the timeline, newest first: two queries at most whatever the page holds."""
    rows = Event.objects.filter(stream_id=patient_id)
    if older_than is not None:
        rows = rows.filter(version__lt=older_than)
    found = list(rows.order_by("-version")[: size + 1])
    # Decoded by the store's rule (as the API's timeline is): as stored, what append
    # validated not judged again by today's bounds, and any row this release cannot read
    # (a newer deployment's, or one written past the store) shown as there rather than
    # breaking the page the front desk needs while the patient is on the phone.
    page = [stored_or_unreadable(row) for row in found[:size]]
    more = len(found) > size
    for stored in page:
        if isinstance(stored, UnreadableEvent):
            log.error(
                "timeline: cannot read event %s v%s: %s",
                stored.event_type,
                stored.schema_version,
                stored.error,
            )
    references = timeline.references_for(
        patient_id, [(s.version, s.event) for s in page if isinstance(s, RecordedEvent)]
    )
    zone = fmt.zone(zone_name)
    entries = [_entry(stored, references, zone, include_restricted) for stored in page]
    return TimelinePage(entries=entries, older_than=page[-1].version if more else None)


def _entry(
    stored: RecordedEvent | UnreadableEvent,
    references: timeline.References,
    zone: dt.tzinfo,
    include_restricted: bool,
) -> Entry:
    version, occurred_at, recorded_at = stored.version, stored.occurred_at, stored.recorded_at
    clinic = fmt.clinic_zone()
    if isinstance(stored, UnreadableEvent):
        description = timeline.unreadable(stored.event_type, stored.schema_version)
    else:
        description = timeline.describe(
            stored.event,
            version=version,
            zone=zone,
            clinic=clinic,
            references=references,
            restricted_visible=include_restricted,
        )
    late = recorded_at - occurred_at > _LATE_ENTRY
    return Entry(
        version=version,
        kind=description.kind,
        title=description.title,
        detail=description.detail,
        when=moments.moment(occurred_at, zone, clinic=clinic),
        entered=moments.moment(recorded_at, zone, clinic=clinic) if late else "",
        who=_who(stored.metadata),
        restricted=description.restricted,
        times=description.times,
    )


def _who(metadata: dict[str, Any]) -> str:
    name = str(metadata.get("actor") or "unknown")
    role = str(metadata.get("role") or "").replace("_", " ").replace(",", ", ")
    channel = {
        "admin": "in the admin",
        "api": "on the agent desktop",
        "sms": "by text message",
        "job": "by a scheduled job",
        "fixture": "demo data",
    }.get(str(metadata.get("channel") or ""), "")
    extras = ", ".join(part for part in (role, channel) if part)
    return f"{name} ({extras})" if extras else name


def described_types() -> Iterable[type[ev.DomainEvent]]:
    """Event types with a description of their own (crm.timeline's)."""
    return timeline.described_types()
