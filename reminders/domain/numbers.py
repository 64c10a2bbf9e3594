"""The number-level block list's rules: when a number is opted out or held, and the
number's own stream. Plain Python; reminders.projections.numbers keeps the read model."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent

CARRIER_OPT_OUT = "21610"  # Twilio's error: the number unsubscribed at its carrier
STOP_REVIEW_KIND = "sms_stop_review"  # the engagement app's suggestion kind (contract)

# A number's own stream holds what happened to the number whoever it belongs to.
_NUMBER_NAMESPACE = uuid.UUID("6f1c3a52-5b7e-4d0a-9a57-3c2b8e1d4f60")


def number_stream_id(phone: str) -> uuid.UUID:
    """The stream of number-level events for an E.164 number."""
    return uuid.uuid5(_NUMBER_NAMESPACE, f"sms-number:{phone}")


def stream_of(patient_id: uuid.UUID | None, phone: str) -> uuid.UUID:
    """Where a text's events go: its patient's stream, or its number's when it has none."""
    return patient_id if patient_id is not None else number_stream_id(phone)


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
        elif releases_hold(event) or consents_again(event):
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


def block_reason(status: NumberStatus, zone: zoneinfo.ZoneInfo) -> str | None:
    """Why texts to the number must not go now, as a person reads it; None when they may."""
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


def releases_hold(event: ev.DomainEvent) -> bool:
    """An agent reviewed a stop request: the patient's hold is lifted."""
    return (
        isinstance(event, ev.SuggestionCompleted | ev.SuggestionDismissed)
        and event.kind == STOP_REVIEW_KIND
    )


def consents_again(event: ev.DomainEvent) -> bool:
    """Staff recorded SMS consent after talking with the patient: that settles the review
    too (the engagement app closes it as met without a SuggestionCompleted)."""
    return isinstance(event, ev.ConsentRecorded) and event.channel is ev.Channel.SMS


def changes_a_number(recorded: RecordedEvent) -> bool:
    """Does the event block or release a number, or move a hold?"""
    event = recorded.event
    return (
        phone_of(recorded) is not None
        or releases_hold(event)
        or consents_again(event)
        or isinstance(event, ev.PatientsMerged)
    )
