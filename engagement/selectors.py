"""Reads of the suggestion queue: rows as documents with the status as of the reader's clock
(a claim or snooze that ran out reads as open at once), and the "as of" replay."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from crm.models import PatientProfile
from engagement.conf import rule_config
from engagement.domain.evaluate import evaluate
from engagement.domain.state import fold_engagement
from engagement.domain.suggestions import LABEL, Kind, Status
from engagement.domain.suggestions import Suggestion as Found
from engagement.models import Suggestion
from engagement.passes import evidence_json
from engagement.projection import history_of, load_streams

ACTIONABLE = (Status.OPEN.value, Status.CLAIMED.value)
# The queue's order, for the API's list and the admin's worklist alike: the highest
# priority first (1 is the most urgent), then the most overdue.
QUEUE_ORDER = ("priority", "due_at", "suggestion_id")


def in_queue_order(rows: QuerySet[Suggestion]) -> QuerySet[Suggestion]:
    """`rows` in the order an agent or a clerk works them."""
    return rows.order_by(*QUEUE_ORDER)


def with_status(
    queryset: QuerySet[Suggestion], statuses: Iterable[str], now: dt.datetime
) -> QuerySet[Suggestion]:
    """Rows whose status, read at `now`, is one of `statuses`."""
    wanted = set(statuses)
    # A claim with no end, or one that has run out, reads as open (as `status_at` says).
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    ran_out = Q(status=Status.CLAIMED.value) & unclaimed | Q(
        status=Status.SNOOZED.value, snoozed_until__lte=now
    )
    condition = Q(pk__in=[])
    if Status.OPEN.value in wanted:
        condition |= Q(status=Status.OPEN.value) | ran_out
    if Status.CLAIMED.value in wanted:
        condition |= Q(status=Status.CLAIMED.value, claimed_until__gt=now)
    if Status.SNOOZED.value in wanted:
        condition |= Q(status=Status.SNOOZED.value) & ~Q(snoozed_until__lte=now)
    finished = wanted & {Status.DONE.value, Status.DISMISSED.value, Status.EXPIRED.value}
    if finished:
        condition |= Q(status__in=sorted(finished))
    return queryset.filter(condition)


def status_at(suggestion: Suggestion, now: dt.datetime) -> str:
    """One row's status at `now`: `with_status` in Python (tests/engagement/test_status_rule.py
    holds the two to the same answer for every combination)."""
    if suggestion.status == Status.CLAIMED.value and (
        suggestion.claimed_until is None or suggestion.claimed_until <= now
    ):
        return Status.OPEN.value
    if (
        suggestion.status == Status.SNOOZED.value
        and suggestion.snoozed_until is not None
        and suggestion.snoozed_until <= now
    ):
        return Status.OPEN.value
    return suggestion.status


def document(suggestion: Suggestion, now: dt.datetime) -> dict[str, Any]:
    status = status_at(suggestion, now)
    held = status == Status.CLAIMED.value
    snoozed = status == Status.SNOOZED.value
    return {
        "suggestion_id": suggestion.suggestion_id,
        "patient_id": suggestion.patient_id,
        "kind": suggestion.kind,
        "label": LABEL[Kind(suggestion.kind)],
        "priority": suggestion.priority,
        "status": status,
        "opened_at": suggestion.opened_at,
        "due_at": suggestion.due_at,
        "overdue": status in ACTIONABLE and suggestion.due_at < now,
        "reason": suggestion.reason,
        "closed_at": suggestion.closed_at,
        "closed_by": suggestion.closed_by,
        "closed_reason": suggestion.closed_reason,
        "paused_reason": suggestion.paused_reason,
        "outcome": suggestion.outcome,
        "assignee": suggestion.assignee if held else "",
        "claimed_until": suggestion.claimed_until if held else None,
        "snoozed_until": suggestion.snoozed_until if snoozed else None,
        "evidence": suggestion.evidence,
        "payload": suggestion.payload,
        "evaluated_at": suggestion.evaluated_at,
    }


def found_document(found: Found, now: dt.datetime) -> dict[str, Any]:
    """The same document for a suggestion evaluated on the spot (the "as of" replay)."""
    return {
        "suggestion_id": found.suggestion_id,
        "patient_id": found.patient_id,
        "kind": found.kind.value,
        "label": LABEL[found.kind],
        "priority": found.priority,
        "status": found.status.value,
        "opened_at": found.opened_at,
        "due_at": found.due_at,
        "overdue": found.status.value in ACTIONABLE and found.due_at < now,
        "reason": found.reason,
        "closed_at": found.closed_at,
        "closed_by": found.closed_by,
        "closed_reason": found.closed_reason,
        "paused_reason": found.paused_reason,
        "outcome": found.outcome,
        "assignee": found.assignee if found.status is Status.CLAIMED else "",
        "claimed_until": found.claimed_until,
        "snoozed_until": found.snoozed_until,
        "evidence": evidence_json(found),
        "payload": found.payload,
        "evaluated_at": now,
    }


def as_of(patient_id: uuid.UUID, moment: dt.datetime) -> list[Found] | None:
    """The patient's suggestions as they stood at `moment`, replayed from the events the
    store held then; None if the patient was not registered yet."""
    streams = load_streams([patient_id], recorded_until=moment)
    state = fold_engagement(patient_id, history_of(patient_id, streams))
    if not state.patient.registered:
        return None
    return evaluate(state, moment, rule_config()).suggestions


def current(suggestion_id: str, patient_id: uuid.UUID, now: dt.datetime) -> Found | None:
    """One suggestion as the log has it at `now`, even before the queue has caught up (what
    a clerk just did to it reads back at once); None when the rules no longer hold it."""
    streams = load_streams([patient_id])
    state = fold_engagement(patient_id, history_of(patient_id, streams))
    return evaluate(state, now, rule_config()).get(suggestion_id)


def survivor_of(patient_id: uuid.UUID) -> uuid.UUID:
    """Where a merged-away record lives on (itself when it was not merged)."""
    merged_into = (
        PatientProfile.objects.filter(patient_id=patient_id)
        .values_list("merged_into", flat=True)
        .first()
    )
    return merged_into or patient_id
