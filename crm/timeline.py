"""What a person reads about an event: the one describer behind the admin's timeline, the API's
timeline entries and the screen pop's recent history."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from crm.domain import events as ev
from crm.domain import moments
from crm.domain.languages import language_name
from crm.domain.recorded import RecordedEvent
from crm.domain.vocabulary import duration, label, phone
from crm.eventstore.records import stored_or_unreadable
from crm.models import Event
from crm.selectors import rows

__all__ = [
    "REFERENCED",
    "Description",
    "References",
    "Time",
    "describe",
    "described_types",
    "references_for",
    "references_from",
    "unreadable",
]

# Events that introduce an appointment or a test; later events name them by id only.
REFERENCED = ("AppointmentScheduled", "AppointmentRescheduled", "TestOrdered")
# Events whose description names the appointment or test they refer to.
_REFERRING = frozenset(
    {
        "AppointmentRescheduled",
        "AppointmentConfirmed",
        "AppointmentCancelled",
        "AppointmentCompleted",
        "AppointmentNoShowRecorded",
        "TestCompleted",
    }
)


@dataclass(frozen=True, slots=True)
class Time:
    """A time a description mentions: what it is, the instant, and how it reads."""

    role: str  # "starts", "was", "until", "visit"...
    at: dt.datetime
    shown: str  # in the patient's zone, labelled, the clinic's clock beside it if it differs


@dataclass(frozen=True, slots=True)
class Description:
    kind: str  # what the line is about, for its marker: call, note, visit, crisis...
    title: str
    detail: str = ""
    times: tuple[Time, ...] = ()
    restricted: bool = False  # a restricted note

    @property
    def sentence(self) -> str:
        """Title and detail as one line (the API's `summary`)."""
        if not self.detail:
            return self.title
        joiner = "; " if ":" in self.title else ": "
        return f"{self.title}{joiner}{self.detail}"


@dataclass(slots=True)
class References:
    """The appointments and tests of a stream, to name them where an event gives only an
    id. Fed with the stream's REFERENCED events in version order."""

    appointments: dict[uuid.UUID, ev.AppointmentScheduled] = field(default_factory=dict)
    starts: dict[uuid.UUID, list[tuple[int, dt.datetime]]] = field(default_factory=dict)
    tests: dict[uuid.UUID, str] = field(default_factory=dict)

    def add(self, version: int, event: ev.DomainEvent) -> None:
        if isinstance(event, ev.AppointmentScheduled):
            self.appointments[event.appointment_id] = event
            self.starts[event.appointment_id] = [(version, event.starts_at)]
        elif isinstance(event, ev.AppointmentRescheduled):
            self.starts.setdefault(event.appointment_id, []).append((version, event.starts_at))
        elif isinstance(event, ev.TestOrdered):
            self.tests[event.test_id] = event.test_name

    def visit(self, appointment_id: uuid.UUID, version: int) -> tuple[str, dt.datetime] | None:
        """The visit as it stood just before `version` (its words and start), if known."""
        booked = self.appointments.get(appointment_id)
        if booked is None:
            return None
        starts_at = booked.starts_at
        for changed_at, moved_to in self.starts.get(appointment_id, []):
            if changed_at < version:
                starts_at = moved_to
        return f"{label(booked.appointment_type)} with {booked.provider}", starts_at

    def test(self, test_id: uuid.UUID) -> str:
        return self.tests.get(test_id, "a test")


def references_for(stream_id: uuid.UUID, page: Iterable[tuple[int, ev.DomainEvent]]) -> References:
    """What the events of `page` refer to: one query for the stream's appointments and
    tests when some event of the page names one, none otherwise."""
    if not any(event.event_type in _REFERRING for _, event in page):
        return References()
    return references_from(
        (row.version, _readable(row)) for row in _referenced().fetch({"stream": stream_id})
    )


def references_from(referenced: Iterable[tuple[int, ev.DomainEvent | None]]) -> References:
    """`references_for` from a stream's REFERENCED events already read, in version order
    (the screen pop reads them with its recent history); None is one this release cannot
    read, and its visit or test is named as "an appointment" or "a test"."""
    references = References()
    for version, event in referenced:
        if event is not None:
            references.add(version, event)
    return references


def _readable(row: Event) -> ev.DomainEvent | None:
    # By the store's rule (any row it cannot decode is that row's): named "an appointment".
    stored = stored_or_unreadable(row)
    return stored.event if isinstance(stored, RecordedEvent) else None


@functools.cache
def _referenced() -> rows.Template[Event]:
    # Compiled once: on the screen pop, building this QuerySet cost more than reading it.
    stand_in = uuid.UUID(int=1)
    stored = Event.objects.filter(stream_id=stand_in, event_type__in=REFERENCED)
    return rows.template(stored.order_by("version"), {"stream": ("stream_id", stand_in)})


def describe(
    event: ev.DomainEvent,
    *,
    version: int,
    zone: dt.tzinfo,
    clinic: dt.tzinfo,
    references: References | None = None,
    restricted_visible: bool,
) -> Description:
    """The parts a person reads about `event`, the `version`-th of its stream.

    Parts (kind, title, detail, times) are in the clinic's words, every time in the
    patient's zone with its abbreviation and the clinic's clock beside it when the two
    differ (crm.domain.moments). The admin lays them out; the API joins them into its
    `summary` sentence. A restricted note's text is a part only for a reader who may see it;
    everyone else learns that one was written and by whom.
    """
    writer = _Writer(zone, clinic, references or References(), version, restricted_visible)
    describer = _DESCRIBERS.get(type(event))
    if describer is None:
        return Description("record", _words(event.event_type))
    kind, title, detail = describer(event, writer)
    restricted = isinstance(event, ev.NoteAdded) and event.restricted
    return Description(kind, title, detail, tuple(writer.times), restricted)


def unreadable(event_type: str, schema_version: int) -> Description:
    """What shows for an event a newer release wrote: that something is there."""
    return Description("record", f"{event_type} (not readable by this version)")


def described_types() -> Iterable[type[ev.DomainEvent]]:
    """Event types with a description of their own."""
    return _DESCRIBERS.keys()


class _Writer:
    """Writes the times of one description and remembers them as its parts."""

    def __init__(
        self,
        zone: dt.tzinfo,
        clinic: dt.tzinfo,
        references: References,
        version: int,
        restricted_visible: bool,
    ) -> None:
        self.zone, self.clinic = zone, clinic
        self.references, self.version = references, version
        self.restricted_visible = restricted_visible
        self.times: list[Time] = []

    def at(self, role: str, value: dt.datetime) -> str:
        shown = moments.moment(value, self.zone, clinic=self.clinic)
        self.times.append(Time(role, value, shown))
        return shown

    def visit(self, appointment_id: uuid.UUID) -> str:
        """ "follow-up with Dr. Lee on Tue Nov 10, 2026, 9:30 AM EST"."""
        found = self.references.visit(appointment_id, self.version)
        if found is None:
            return "an appointment"
        words, starts_at = found
        return f"{words} on {self.at('visit', starts_at)}"


def _words(value: object) -> str:
    """ "CallLogged" -> "Call logged"."""
    text = str(getattr(value, "value", value)).replace("_", " ")
    spaced = "".join(f" {c.lower()}" if c.isupper() and i else c for i, c in enumerate(text))
    return spaced[:1].upper() + spaced[1:]


def _then(text: str, more: str) -> str:
    return f"{text}. {more}" if more else text


# --- one description per event type -------------------------------------------------------

Parts = tuple[str, str, str]  # kind, title, detail


def _registered(e: ev.PatientRegistered, w: _Writer) -> Parts:
    contact = ", ".join(part for part in (phone(e.phone), e.email) if part)
    title = f"Registered {e.first_name} {e.last_name}, born {moments.day(e.date_of_birth)}"
    return "record", title, contact


def _demographics(e: ev.DemographicsChanged, w: _Writer) -> Parts:
    name = f"{e.first_name} {e.last_name}"
    preferred = f' (goes by "{e.preferred_name}")' if e.preferred_name else ""
    born = moments.day(e.date_of_birth)
    detail = f"{name}{preferred}, born {born}, speaks {language_name(e.language)}"
    return "record", "Name or date of birth updated", detail


def _contact_details(e: ev.ContactDetailsChanged, w: _Writer) -> Parts:
    parts = [
        f"phone {phone(e.phone) or 'removed'}",
        f"email {e.email or 'none'}",
        f"time zone {e.timezone or 'from the phone number'}",
    ]
    return "record", "Contact details changed", ", ".join(parts)


def _consent_recorded(e: ev.ConsentRecorded, w: _Writer) -> Parts:
    title = f"Consent given: {label(e.channel)} for {label(e.purpose)}"
    return "consent", title, f"source: {label(e.source)}"


def _consent_revoked(e: ev.ConsentRevoked, w: _Writer) -> Parts:
    purpose = label(e.purpose) if e.purpose else "every purpose"
    title = f"Consent withdrawn: {label(e.channel)} for {purpose}"
    return "consent", title, f"source: {label(e.source)}"


def _call(e: ev.CallLogged, w: _Writer) -> Parts:
    medium = "call" if e.channel is ev.Channel.VOICE else f"{label(e.channel)} conversation"
    title = f"{e.direction.value.capitalize()} {medium}, {label(e.disposition)}"
    if e.reason:
        title += f": {e.reason}"
    parts = [f"by {e.agent}"]
    if e.disposition is ev.CallDisposition.CONNECTED:
        # Talk time: what the patient and the agent spent speaking, hold apart.
        parts.append(f"talk {duration(max(e.duration_seconds - e.hold_seconds, 0))}")
        if e.hold_seconds:
            parts.append(f"hold {duration(e.hold_seconds)}")
    elif e.duration_seconds:
        parts.append(f"lasted {duration(e.duration_seconds)}")
    if e.queue_seconds:
        parts.append(f"waited {duration(e.queue_seconds)} in the queue")
    if e.resolved_first_contact:
        parts.append("resolved on first contact")
    return "call", title, ", ".join(parts)


def _call_wrapped_up(e: ev.CallWrappedUp, w: _Writer) -> Parts:
    # The wrap-up completes the call logged before it: the same call, not another one.
    title = "Wrap-up of the call" + (f": {e.reason}" if e.reason else "")
    parts = [f"by {e.agent}"]
    if e.resolved_first_contact:
        parts.append("resolved on first contact")
    if e.wrap_up_seconds:
        parts.append(f"wrap-up {duration(e.wrap_up_seconds)}")
    if e.note:
        parts.append(f"note: {e.note}")
    return "call", title, ", ".join(parts)


def _note(e: ev.NoteAdded, w: _Writer) -> Parts:
    if not e.restricted:
        return "note", f"Note by {e.author}", e.text
    title = f"Restricted note (clinicians only) by {e.author}"
    return "restricted", title, e.text if w.restricted_visible else ""


def _crisis(e: ev.CrisisContactRecorded, w: _Writer) -> Parts:
    title = f"Crisis contact: {e.risk_level.value} risk, {label(e.handoff)}"
    detail = _then(f"{label(e.safety_plan).capitalize()}, by {e.agent}", e.summary)
    return "crisis", title, detail


def _crisis_cleared(e: ev.CrisisFlagCleared, w: _Writer) -> Parts:
    return "crisis", "Crisis flag cleared", f"{e.reason} (by {e.cleared_by})"


def _scheduled(e: ev.AppointmentScheduled, w: _Writer) -> Parts:
    title = f"Booked: {label(e.appointment_type)}, {w.at('starts', e.starts_at)}"
    detail = f"{label(e.modality)} with {e.provider} at {e.location}, {e.duration_minutes} min"
    return "visit", title, detail


def _rescheduled(e: ev.AppointmentRescheduled, w: _Writer) -> Parts:
    title = f"Rescheduled to {w.at('starts', e.starts_at)}"
    return "visit", title, _then(f"was {w.visit(e.appointment_id)}", e.reason)


def _confirmed(e: ev.AppointmentConfirmed, w: _Writer) -> Parts:
    return "visit", f"Visit confirmed by {label(e.via)}", w.visit(e.appointment_id)


def _cancelled(e: ev.AppointmentCancelled, w: _Writer) -> Parts:
    title = f"Visit cancelled by the {e.cancelled_by.value}"
    return "visit", title, _then(w.visit(e.appointment_id), e.reason)


def _completed(e: ev.AppointmentCompleted, w: _Writer) -> Parts:
    return "visit", "Visit completed", w.visit(e.appointment_id)


def _no_show(e: ev.AppointmentNoShowRecorded, w: _Writer) -> Parts:
    return "visit", "Did not attend (no-show)", w.visit(e.appointment_id)


def _test_ordered(e: ev.TestOrdered, w: _Writer) -> Parts:
    title = f"Test ordered: {e.test_name}"
    return "test", title, f"due by {moments.day(e.due_by)}, ordered by {e.ordered_by}"


def _test_completed(e: ev.TestCompleted, w: _Writer) -> Parts:
    return "test", f"Test completed: {w.references.test(e.test_id)}", ""


def _sms_sent(e: ev.SmsSent, w: _Writer) -> Parts:
    return "text", f"Text sent to {phone(e.to)} ({label(e.purpose)})", e.body


def _sms_delivered(e: ev.SmsDelivered, w: _Writer) -> Parts:
    return "text", "Text delivered", ""


def _sms_failed(e: ev.SmsFailed, w: _Writer) -> Parts:
    kind = "will not be retried" if e.permanent else "may be retried"
    return "text", f"Text not delivered ({kind})", f"{e.error_message} ({e.error_code})"


def _sms_received(e: ev.SmsReceived, w: _Writer) -> Parts:
    meaning = _SMS_INTENTS.get(e.intent, "")
    title = f"Text received from {phone(e.from_number)}" + (f": {meaning}" if meaning else "")
    return "text", title, e.body


_SMS_INTENTS = {
    ev.SmsIntent.OPT_OUT: "opted out (no more texts)",
    ev.SmsIntent.OPT_IN: "opted back in",
    ev.SmsIntent.HELP: "asked for help",
    ev.SmsIntent.CONFIRM: "confirms",
    ev.SmsIntent.RESCHEDULE: "asks to reschedule",
    ev.SmsIntent.SATISFACTION: "satisfaction score",
    ev.SmsIntent.STOP_REQUEST: "asks us to stop (texts held for review)",
    ev.SmsIntent.FREE_TEXT: "call back",
}


def _sms_status(e: ev.SmsStatusReported, w: _Writer) -> Parts:
    return "text", f"Text {e.status.value} by the carrier", ""


def _number_opted_out(e: ev.SmsNumberOptedOut, w: _Writer) -> Parts:
    return "consent", f"{phone(e.phone)} opted out of all texts", f"texted {e.keyword}"


def _number_opted_in(e: ev.SmsNumberOptedIn, w: _Writer) -> Parts:
    return "consent", f"{phone(e.phone)} opted back in to texts", f"texted {e.keyword}"


def _suggestion(done: str, kind: str) -> str:
    return f"Suggestion {done}: {kind.replace('_', ' ')}"


def _suggestion_completed(e: ev.SuggestionCompleted, w: _Writer) -> Parts:
    return "suggestion", _suggestion("done", e.kind), f"{e.outcome} (by {e.agent})"


def _suggestion_dismissed(e: ev.SuggestionDismissed, w: _Writer) -> Parts:
    return "suggestion", _suggestion("dismissed", e.kind), f"{e.reason} (by {e.agent})"


def _suggestion_snoozed(e: ev.SuggestionSnoozed, w: _Writer) -> Parts:
    until = w.at("until", e.until)
    return "suggestion", _suggestion("snoozed", e.kind), f"until {until} (by {e.agent})"


def _suggestion_claimed(e: ev.SuggestionClaimed, w: _Writer) -> Parts:
    until = w.at("until", e.until)
    return "suggestion", _suggestion("taken", e.kind), f"by {e.agent} until {until}"


def _suggestion_released(e: ev.SuggestionReleased, w: _Writer) -> Parts:
    return "suggestion", _suggestion("handed back", e.kind), f"by {e.agent}"


def _satisfaction(e: ev.SatisfactionRecorded, w: _Writer) -> Parts:
    return "survey", f"Satisfaction survey: {e.score} of 5", f"by {label(e.channel)}"


def _deceased(e: ev.PatientDeceased, w: _Writer) -> Parts:
    died = f"date of death {moments.day(e.date_of_death)} " if e.date_of_death else ""
    return "record", "Recorded as deceased", f"{died}(by {e.recorded_by})"


def _identifier(e: ev.PatientIdentifierRecorded, w: _Writer) -> Parts:
    kind = f" ({e.kind})" if e.kind else ""
    return "record", f"Known in another system as {e.value}{kind}", e.system


def _merged(e: ev.PatientsMerged, w: _Writer) -> Parts:
    detail = f"record {e.merged_patient_id}, by {e.merged_by}"
    return "record", "A duplicate record was merged into this one", detail


def _merged_into(e: ev.PatientMergedInto, w: _Writer) -> Parts:
    detail = f"use record {e.surviving_patient_id} (by {e.merged_by})"
    return "record", "This record was merged into another", detail


_DESCRIBERS: dict[type[ev.DomainEvent], Callable[[Any, _Writer], Parts]] = {
    ev.PatientRegistered: _registered,
    ev.DemographicsChanged: _demographics,
    ev.ContactDetailsChanged: _contact_details,
    ev.ConsentRecorded: _consent_recorded,
    ev.ConsentRevoked: _consent_revoked,
    ev.CallLogged: _call,
    ev.CallWrappedUp: _call_wrapped_up,
    ev.NoteAdded: _note,
    ev.CrisisContactRecorded: _crisis,
    ev.CrisisFlagCleared: _crisis_cleared,
    ev.AppointmentScheduled: _scheduled,
    ev.AppointmentRescheduled: _rescheduled,
    ev.AppointmentConfirmed: _confirmed,
    ev.AppointmentCancelled: _cancelled,
    ev.AppointmentCompleted: _completed,
    ev.AppointmentNoShowRecorded: _no_show,
    ev.TestOrdered: _test_ordered,
    ev.TestCompleted: _test_completed,
    ev.SmsSent: _sms_sent,
    ev.SmsDelivered: _sms_delivered,
    ev.SmsFailed: _sms_failed,
    ev.SmsReceived: _sms_received,
    ev.SmsStatusReported: _sms_status,
    ev.SmsNumberOptedOut: _number_opted_out,
    ev.SmsNumberOptedIn: _number_opted_in,
    ev.SuggestionCompleted: _suggestion_completed,
    ev.SuggestionDismissed: _suggestion_dismissed,
    ev.SuggestionSnoozed: _suggestion_snoozed,
    ev.SuggestionClaimed: _suggestion_claimed,
    ev.SuggestionReleased: _suggestion_released,
    ev.SatisfactionRecorded: _satisfaction,
    ev.PatientDeceased: _deceased,
    ev.PatientIdentifierRecorded: _identifier,
    ev.PatientsMerged: _merged,
    ev.PatientMergedInto: _merged_into,
}
