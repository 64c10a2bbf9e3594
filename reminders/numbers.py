"""The number-level block list: which phone numbers we must not text, and why (I8).

A number is blocked while it is opted out (it texted STOP or another opt-out keyword, or
the carrier told us it unsubscribed, Twilio error 21610) or while one of its free-text
stop requests ("please stop texting me") waits for an agent's review. START, YES or UNSTOP
from the number lifts both.

The catch-up projection "sms_numbers" keeps the read model (reminders.models.numbers).
A block must bite at once, before the projection catches up, so `blocked_reasons` reads
the read model AND the tail of the log past the projection's checkpoint and applies that
tail on top, with the very same rules. Why not project inline in the webhook's
transaction: the events that block or release a number come from three writers (the
inbound webhook, the dispatcher's 21610, the engagement app's review), and only this way
does every one of them take effect at once without any of them knowing the others.

The rules are such that applying part of the tail a second time over a read model that
already has it changes nothing (an opt-out keeps the first one since the last opt-in, an
opt-in or a review clears by key, a merge moves a key): reading the checkpoint before the
read model is then safe without locking either. tests/reminders/test_numbers_block_list.py
checks it for every read-model position and checkpoint of a history.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.eventstore import records
from crm.models import Event, PatientProfile
from crm.projections.runner import CatchUpProjection, checkpoint_of
from reminders.models.numbers import SmsNumber, SmsNumberHold

PROJECTION_NAME = "sms_numbers"
CARRIER_OPT_OUT = "21610"  # Twilio's error: the number unsubscribed at its carrier
STOP_REVIEW_KIND = "sms_stop_review"  # the engagement app's suggestion kind (contract)

# A number's own stream holds what happened to the number whoever it belongs to.
_NUMBER_NAMESPACE = uuid.UUID("6f1c3a52-5b7e-4d0a-9a57-3c2b8e1d4f60")

# The event types that can change a number's block; the tail query reads only these.
_NUMBER_TYPES = (
    ev.SmsNumberOptedIn.event_type,
    ev.SmsNumberOptedOut.event_type,
    ev.PatientsMerged.event_type,
)
_CONSENT_TYPES = (ev.ConsentRevoked.event_type, ev.ConsentRecorded.event_type)
_SUGGESTION_TYPES = (ev.SuggestionCompleted.event_type, ev.SuggestionDismissed.event_type)


def number_stream_id(phone: str) -> uuid.UUID:
    """The stream of number-level events for an E.164 number."""
    return uuid.uuid5(_NUMBER_NAMESPACE, f"sms-number:{phone}")


def stream_of(patient_id: uuid.UUID | None, phone: str) -> uuid.UUID:
    """Where a text's events go: its patient's stream, or its number's when it has none."""
    return patient_id if patient_id is not None else number_stream_id(phone)


def patients_with(phones: Iterable[str]) -> QuerySet[PatientProfile]:
    """The records (not merged away) that have one of `phones` today, in id order."""
    return PatientProfile.objects.filter(phone__in=list(phones), merged_into__isnull=True).order_by(
        "patient_id"
    )


def carrier_opt_out(phone: str) -> ev.ConsentRevoked:
    """What a 21610 records for each patient with the number, as if they had texted STOP."""
    return ev.ConsentRevoked(
        channel=ev.Channel.SMS, source=ev.ConsentSource.CARRIER, purpose=None, phone=phone
    )


@dataclass(slots=True)
class NumberStatus:
    phone: str
    opted_out: bool = False
    opted_out_at: dt.datetime | None = None
    opt_out_source: str = ""
    opt_out_keyword: str = ""
    opted_in_at: dt.datetime | None = None
    holds: dict[str, tuple[dt.datetime, uuid.UUID]] = field(default_factory=dict)

    @property
    def has_history(self) -> bool:
        return self.opted_out_at is not None or self.opted_in_at is not None


class Book:
    """Number statuses with the block-list rules; the projection and the tail share it."""

    def __init__(self, statuses: Iterable[NumberStatus] = ()) -> None:
        self.numbers: dict[str, NumberStatus] = {s.phone: s for s in statuses}

    def status(self, phone: str) -> NumberStatus:
        if phone not in self.numbers:
            self.numbers[phone] = NumberStatus(phone)
        return self.numbers[phone]

    def apply(self, recorded: RecordedEvent, *, only: frozenset[str] | None = None) -> None:
        """Apply one event; with `only`, ignore numbers outside that set."""
        event, at = recorded.event, recorded.occurred_at
        phone = phone_of(recorded)
        if phone is not None and only is not None and phone not in only:
            return
        if isinstance(event, ev.SmsNumberOptedOut):
            self._opt_out(event.phone, at, source="sms_keyword", keyword=event.keyword)
        elif isinstance(event, ev.ConsentRevoked) and phone is not None:
            self._opt_out(phone, at, source=event.source.value, keyword="")
        elif isinstance(event, ev.SmsNumberOptedIn):
            status = self.status(event.phone)
            status.opted_out = False
            status.opted_in_at = at
            status.holds.clear()
        elif isinstance(event, ev.SmsReceived) and phone is not None:
            held_for = (
                "" if recorded.stream_id == number_stream_id(phone) else str(recorded.stream_id)
            )
            holds = self.status(phone).holds
            holds.setdefault(held_for, (at, event.message_id))
        elif _releases_hold(event) or _consents_again(event):
            held_for = str(recorded.stream_id)
            for status in self.numbers.values():
                status.holds.pop(held_for, None)
        elif isinstance(event, ev.PatientsMerged):
            # The duplicate's review suggestion moves to the surviving record; so does its hold.
            duplicate, survivor = str(event.merged_patient_id), str(recorded.stream_id)
            for status in self.numbers.values():
                if duplicate in status.holds:
                    status.holds.setdefault(survivor, status.holds.pop(duplicate))

    def _opt_out(self, phone: str, at: dt.datetime, *, source: str, keyword: str) -> None:
        status = self.status(phone)
        if status.opted_out:
            # The first opt-out since the last opt-in says when and how (a STOP is followed
            # by the ConsentRevoked of each patient with the number, a 21610 by a retry).
            return
        status.opted_out = True
        status.opted_out_at = at
        status.opt_out_source = source
        status.opt_out_keyword = keyword


def phone_of(recorded: RecordedEvent) -> str | None:
    """The number an event blocks or unblocks, or None when it touches no number."""
    event = recorded.event
    if isinstance(event, ev.SmsNumberOptedOut | ev.SmsNumberOptedIn):
        return event.phone
    if isinstance(event, ev.ConsentRevoked):
        number_level = event.source is ev.ConsentSource.CARRIER or (
            event.source is ev.ConsentSource.SMS_KEYWORD and event.purpose is None
        )
        if event.channel is ev.Channel.SMS and number_level and event.phone:
            return event.phone
        return None
    if isinstance(event, ev.SmsReceived) and event.intent is ev.SmsIntent.STOP_REQUEST:
        return event.from_number
    return None


def _releases_hold(event: ev.DomainEvent) -> bool:
    return (
        isinstance(event, ev.SuggestionCompleted | ev.SuggestionDismissed)
        and event.kind == STOP_REVIEW_KIND
    )


def _consents_again(event: ev.DomainEvent) -> bool:
    """Staff recorded SMS consent after talking with the patient: that settles the review
    too (the engagement app closes it as met without a SuggestionCompleted)."""
    return isinstance(event, ev.ConsentRecorded) and event.channel is ev.Channel.SMS


def _relevant(recorded: RecordedEvent) -> bool:
    event = recorded.event
    return (
        phone_of(recorded) is not None
        or _releases_hold(event)
        or _consents_again(event)
        or isinstance(event, ev.PatientsMerged)
    )


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
        reason = _reason(status, zone) if status is not None else None
        if reason is not None:
            reasons[phone] = reason
    return reasons


def blocked_reason(phone: str) -> str | None:
    return blocked_reasons([phone]).get(phone)


def number_status(phone: str) -> NumberStatus:
    """Where `phone` stands now (opted out? held?), the log's tail included."""
    return _current(frozenset({phone})).status(phone)


def _current(phones: frozenset[str]) -> Book:
    checkpoint = checkpoint_of(PROJECTION_NAME)  # first: see the module's docstring
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


def _reason(status: NumberStatus, zone: zoneinfo.ZoneInfo) -> str | None:
    if status.opted_out and status.opted_out_at is not None:
        day = f"{status.opted_out_at.astimezone(zone):%d %b %Y}"
        if status.opt_out_source == "carrier":
            how = "the carrier reported it unsubscribed (Twilio error 21610)"
        else:
            keyword = status.opt_out_keyword
            how = f"it texted {keyword}" if keyword else "it asked us to stop texting"
        return f"The number opted out on {day}: {how}. No texts until it texts START."
    if status.holds:
        since = min(at for at, _ in status.holds.values()).astimezone(zone)
        return (
            f"Texts held since {since:%d %b %Y, %H:%M}: the number asked us to stop in its "
            "own words; an agent must review the request first."
        )
    return None


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
        relevant = [recorded for recorded in events if _relevant(recorded)]
        if not relevant:
            return
        phones = {phone for r in relevant if (phone := phone_of(r)) is not None}
        holders = {
            str(e.merged_patient_id)
            if isinstance(e := r.event, ev.PatientsMerged)
            else str(r.stream_id)
            for r in relevant
            if _releases_hold(r.event)
            or _consents_again(r.event)
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
