"""Record what happened to texts as events: a batch of outcomes in the dispatcher's
transaction, each entry one crm command with its own idempotency key."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from crm import eventstore
from crm.domain.events import DomainEvent
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import Actor, execute

ACTOR = Actor(name="system:reminders", channel="job")


@dataclass(frozen=True, slots=True)
class Entry:
    stream_id: uuid.UUID
    events: tuple[DomainEvent, ...]
    # Names the text and what happened to it (`reminders:sms-sent:<message>`), so it is bound
    # to the kinds of events recorded under it, not to their wording: a replay that words an
    # error differently is still the same outcome, and must not stop the dispatcher (I3).
    idempotency_key: str
    occurred_at: dt.datetime


def record(entries: Sequence[Entry]) -> int:
    """Append every entry; must run inside the caller's transaction, which commits them
    with its outbox rows. Returns how many events were added.

    What happened to a text is a fact whatever the stream holds: it is recorded even after
    an event this release cannot read, where the projections wait for the release
    (docs/failure-model.md), and such a patient keeps no other outcome out (I9, I11).
    """
    if not entries:
        return 0
    # Every stream of the batch, locked now in a fixed order: once the first append holds
    # the store's append lock, this transaction must not wait on another command's stream.
    eventstore.lock_streams(*{entry.stream_id for entry in entries})
    added = 0
    for entry in entries:
        result = execute(
            patient_id=entry.stream_id,
            facts=entry.events,
            actor=ACTOR,
            occurred_at=entry.occurred_at,
            idempotency_key=entry.idempotency_key,
            correlation_id=entry.idempotency_key,
            fingerprint=fingerprint(
                "reminders_record", {"events": [event.event_type for event in entry.events]}
            ),
            in_callers_transaction=True,
        )
        if not result.duplicate:
            added += len(result.events)
    return added
