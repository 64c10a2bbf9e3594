"""Record what happened to texts as events, many patients in one transaction.

The dispatcher records a batch of outcomes at once: per-stream advisory locks taken in
a fixed order (as crm's handlers take them), the streams read and folded in one query,
then one `append` per text with an idempotency key of its own, so recording the same
outcome twice (a replay after a crash, a reconciliation) appends nothing the second time
(I3). The profile is saved inline, as every crm handler does.

A key names the text and what happened to it (`reminders:sms-sent:<message>`), so it is
bound to the kinds of events recorded under it, not to their wording: a replay that words
an error differently is still the same outcome, and must not stop the dispatcher.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Max

from crm import eventstore
from crm.domain.errors import UnknownEventType
from crm.domain.events import DomainEvent
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold
from crm.eventstore import NewEvent
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import Actor
from crm.models import Event
from crm.projections.profile import save_profile
from reminders.projection import read_streams

ACTOR = Actor(name="system:reminders", channel="job")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    stream_id: uuid.UUID
    events: tuple[DomainEvent, ...]
    idempotency_key: str
    occurred_at: dt.datetime


def record(entries: Sequence[Entry]) -> int:
    """Append every entry; must run inside the caller's transaction. Returns events added."""
    if not entries:
        return 0
    if not connection.in_atomic_block:
        raise RuntimeError("record() must run inside transaction.atomic()")
    stream_ids = {entry.stream_id for entry in entries}
    eventstore.lock_streams(*stream_ids)
    streams, unreadable = _read(stream_ids)
    states: dict[uuid.UUID, PatientState] = {
        sid: fold(sid, streams.get(sid, [])) for sid in stream_ids if sid not in unreadable
    }
    versions = {sid: state.version for sid, state in states.items()} | unreadable
    changed: set[uuid.UUID] = set()
    added = 0
    metadata = {
        "actor": ACTOR.name,
        "actor_id": None,
        "role": "",
        "channel": ACTOR.channel,
        "correlation_id": None,
        "causation_id": None,
    }
    for entry in entries:
        sid = entry.stream_id
        result = eventstore.append(
            sid,
            [NewEvent(event, entry.occurred_at) for event in entry.events],
            expected_version=versions.get(sid, 0),
            idempotency_key=entry.idempotency_key,
            fingerprint=fingerprint(
                "reminders_record", {"events": [event.event_type for event in entry.events]}
            ),
            metadata={**metadata, "correlation_id": entry.idempotency_key},
            version_read_in_transaction=True,
        )
        if result.duplicate or not result.events:
            continue
        versions[sid] = result.version
        if sid in states:
            states[sid].apply_all(result.events)
            changed.add(sid)
        added += len(result.events)
    for sid in sorted(changed):
        save_profile(states[sid])  # a no-op for a number's stream (no registered patient)
    return added


def _read(
    stream_ids: set[uuid.UUID],
) -> tuple[dict[uuid.UUID, list[RecordedEvent]], dict[uuid.UUID, int]]:
    """The streams, and the version of each this release cannot read (an event a newer
    release wrote). What happened to a text is a fact all the same: it is appended after
    that event, where the projections wait for the release (docs/failure-model.md), and
    one such patient never keeps the batch's other outcomes from being recorded (I9, I11).
    """
    try:
        return read_streams(stream_ids), {}
    except UnknownEventType:
        pass
    streams: dict[uuid.UUID, list[RecordedEvent]] = {}
    unreadable: dict[uuid.UUID, int] = {}
    for sid in sorted(stream_ids):
        try:
            streams.update(read_streams([sid]))
        except UnknownEventType as exc:
            last = Event.objects.filter(stream_id=sid).aggregate(last=Max("version"))["last"]
            unreadable[sid] = last or 0
            log.error("Text outcome recorded on stream %s, which cannot be read: %s", sid, exc)
    return streams, unreadable
