"""The number-level block list's read side: the `sms_numbers` projection, and which
numbers we must not text now (I8), read from its read model and the log's tail."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import Q, QuerySet

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.eventstore import records
from crm.models import Event, PatientProfile
from crm.projections.runner import CatchUpProjection, checkpoint_of
from reminders.domain.numbers import (
    STOP_REVIEW_KIND,
    Book,
    NumberStatus,
    block_reason,
    changes_a_number,
    consents_again,
    phone_of,
    releases_hold,
)
from reminders.models.numbers import SmsNumber, SmsNumberHold

__all__ = [
    "PROJECTION_NAME",
    "SmsNumbersProjection",
    "blocked_reason",
    "blocked_reasons",
    "number_status",
    "patients_with",
]

PROJECTION_NAME = "sms_numbers"

# The event types that can change a number's block; the tail query reads only these.
_NUMBER_TYPES = (
    ev.SmsNumberOptedIn.event_type,
    ev.SmsNumberOptedOut.event_type,
    ev.PatientsMerged.event_type,
)
_CONSENT_TYPES = (ev.ConsentRevoked.event_type, ev.ConsentRecorded.event_type)
_SUGGESTION_TYPES = (ev.SuggestionCompleted.event_type, ev.SuggestionDismissed.event_type)


def patients_with(phones: Iterable[str]) -> QuerySet[PatientProfile]:
    """The records (not merged away) that have one of `phones` today, in id order."""
    return PatientProfile.objects.answering().filter(phone__in=list(phones)).order_by("patient_id")


# --- reading the block list ----------------------------------------------------------------


def blocked_reasons(phones: Iterable[str]) -> dict[str, str]:
    """A reason a person can read for each of `phones` (E.164) we must not text now.

    Call it inside the transaction that decides to send, right before handing over.
    """
    wanted = frozenset(p for p in phones if p)
    if not wanted:
        return {}
    book = _current(wanted)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    reasons = {}
    for phone in sorted(wanted):
        status = book.numbers.get(phone)
        reason = block_reason(status, zone) if status is not None else None
        if reason is not None:
            reasons[phone] = reason
    return reasons


def blocked_reason(phone: str) -> str | None:
    return blocked_reasons([phone]).get(phone)


def number_status(phone: str) -> NumberStatus:
    """Where `phone` stands now (opted out? held?), the log's tail included."""
    return _current(frozenset({phone})).status(phone)


# A block must bite at once, before the projection catches up, so a reader applies the
# log's tail past the checkpoint over the read model, with the very same rules (Book). Not
# projected inline in the webhook's transaction: the events that block or release a number
# come from three writers (the inbound webhook, the dispatcher's 21610, the engagement
# app's review), and only this way does each take effect at once without knowing the
# others. Applying part of the tail twice over a read model that has it changes nothing
# (an opt-out keeps the first since the last opt-in, an opt-in or a review clears by key,
# a merge moves a key), so reading the checkpoint before the read model needs no lock;
# tests/reminders/test_numbers_block_list.py checks it for every position of a history.
def _current(phones: frozenset[str]) -> Book:
    checkpoint = checkpoint_of(PROJECTION_NAME)  # first: see above
    book = Book(_load(phones))
    for recorded in _tail(checkpoint):
        book.apply(recorded, only=phones)
    return book


def _tail(after_position: int) -> list[RecordedEvent]:
    """The events past the projection's checkpoint that may change a block, in order."""
    rows = (
        Event.objects.filter(position__gt=after_position)
        .filter(
            Q(event_type__in=_NUMBER_TYPES)
            | Q(
                event_type__in=_CONSENT_TYPES,
                data__channel=ev.Channel.SMS.value,
            )
            | Q(
                event_type=ev.SmsReceived.event_type,
                data__intent=ev.SmsIntent.STOP_REQUEST.value,
            )
            | Q(event_type__in=_SUGGESTION_TYPES, data__kind=STOP_REVIEW_KIND)
        )
        .order_by("position")
        .values_list(*records.COLUMNS)
    )
    return [records.recorded(row) for row in rows]


def _load(phones: Iterable[str], holders: Iterable[str] = ()) -> list[NumberStatus]:
    phones = set(phones)
    holders = set(holders)
    if holders:
        phones |= set(
            SmsNumberHold.objects.filter(held_for__in=holders).values_list("phone", flat=True)
        )
    statuses = {
        row.phone: NumberStatus(
            phone=row.phone,
            opted_out=row.opted_out,
            opted_out_at=row.opted_out_at,
            opt_out_source=row.opt_out_source,
            opt_out_keyword=row.opt_out_keyword,
            opted_in_at=row.opted_in_at,
        )
        for row in SmsNumber.objects.filter(phone__in=phones)
    }
    for hold in SmsNumberHold.objects.filter(phone__in=phones):
        status = statuses.setdefault(hold.phone, NumberStatus(hold.phone))
        status.holds[hold.held_for] = (hold.since, hold.message_id)
    return list(statuses.values())


# --- the projection ------------------------------------------------------------------------


class SmsNumbersProjection(CatchUpProjection):
    name = PROJECTION_NAME
    read_models = (SmsNumber, SmsNumberHold)

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        relevant = [recorded for recorded in events if changes_a_number(recorded)]
        if not relevant:
            return
        phones = {phone for r in relevant if (phone := phone_of(r)) is not None}
        holders = {
            str(e.merged_patient_id)
            if isinstance(e := r.event, ev.PatientsMerged)
            else str(r.stream_id)
            for r in relevant
            if releases_hold(r.event)
            or consents_again(r.event)
            or isinstance(r.event, ev.PatientsMerged)
        }
        book = Book(_load(phones, holders))
        for recorded in relevant:
            book.apply(recorded)
        touched = list(book.numbers)
        SmsNumber.objects.bulk_create(
            [
                SmsNumber(
                    phone=s.phone,
                    opted_out=s.opted_out,
                    opted_out_at=s.opted_out_at,
                    opt_out_source=s.opt_out_source,
                    opt_out_keyword=s.opt_out_keyword,
                    opted_in_at=s.opted_in_at,
                )
                for s in book.numbers.values()
                if s.has_history
            ],
            update_conflicts=True,
            unique_fields=["phone"],
            update_fields=[
                "opted_out",
                "opted_out_at",
                "opt_out_source",
                "opt_out_keyword",
                "opted_in_at",
            ],
        )
        SmsNumberHold.objects.filter(Q(phone__in=touched)).delete()
        SmsNumberHold.objects.bulk_create(
            SmsNumberHold(phone=s.phone, held_for=held_for, since=since, message_id=message_id)
            for s in book.numbers.values()
            for held_for, (since, message_id) in sorted(s.holds.items())
        )
