"""A patient's timeline as the front desk reads it: newest first, one line per event, who
recorded it and when. Someone who may not read restricted notes sees that one was written
and by whom, never its text (as on the agent desktop)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from crm.admin import formatting as fmt
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.models import Event

PAGE_SIZE = 50
log = logging.getLogger(__name__)

# Events that name an appointment or a test by id; the page looks those up in one query.
_REFERENCES = ("AppointmentScheduled", "AppointmentRescheduled", "TestOrdered")
_COLUMNS = (
    "version",
    "event_type",
    "schema_version",
    "data",
    "metadata",
    "occurred_at",
    "recorded_at",
)
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


@dataclass(frozen=True, slots=True)
class TimelinePage:
    entries: list[Entry]
    older_than: int | None  # ask for versions below this for the next page; None at the end


@dataclass(slots=True)
class _References:
    """Appointments and tests of the stream, to name them where an event gives only an id."""

    zone_name: str
    appointments: dict[uuid.UUID, ev.AppointmentScheduled] = field(default_factory=dict)
    times: dict[uuid.UUID, list[tuple[int, dt.datetime]]] = field(default_factory=dict)
    tests: dict[uuid.UUID, str] = field(default_factory=dict)

    def add(self, version: int, event: ev.DomainEvent) -> None:
        if isinstance(event, ev.AppointmentScheduled):
            self.appointments[event.appointment_id] = event
            self.times[event.appointment_id] = [(version, event.starts_at)]
        elif isinstance(event, ev.AppointmentRescheduled):
            self.times.setdefault(event.appointment_id, []).append((version, event.starts_at))
        elif isinstance(event, ev.TestOrdered):
            self.tests[event.test_id] = event.test_name

    def appointment(self, appointment_id: uuid.UUID, version: int) -> str:
        """The visit as it stood just before `version`: "follow-up on Tue Nov 10, ..."."""
        booked = self.appointments.get(appointment_id)
        if booked is None:
            return "an appointment"
        starts_at = booked.starts_at
        for changed_at, moved_to in self.times.get(appointment_id, []):
            if changed_at < version:
                starts_at = moved_to
        when = fmt.moment(starts_at, self.zone_name)
        return f"{fmt.label(booked.appointment_type)} on {when} with {booked.provider}"

    def test(self, test_id: uuid.UUID) -> str:
        return self.tests.get(test_id, "a test")


def timeline_page(
    *,
    patient_id: uuid.UUID,
    zone_name: str,
    include_restricted: bool,
    older_than: int | None = None,
    size: int = PAGE_SIZE,
) -> TimelinePage:
    """One page of the timeline, newest first: two queries whatever the page holds."""
    rows = Event.objects.filter(stream_id=patient_id)
    if older_than is not None:
        rows = rows.filter(version__lt=older_than)
    found = list(rows.order_by("-version").values_list(*_COLUMNS)[: size + 1])
    page, more = found[:size], len(found) > size
    references = _References(zone_name)
    if any(row[1] in _NEEDS_REFERENCES for row in page):
        referenced = (
            Event.objects.filter(stream_id=patient_id, event_type__in=_REFERENCES)
            .order_by("version")
            .values_list("version", "event_type", "schema_version", "data")
        )
        for version, event_type, schema_version, data in referenced:
            references.add(version, ev.load_stored(event_type, schema_version, data))
    entries = [_entry(row, references, zone_name, include_restricted) for row in page]
    return TimelinePage(entries=entries, older_than=page[-1][0] if more else None)


def _entry(
    row: tuple[Any, ...], refs: _References, zone_name: str, include_restricted: bool
) -> Entry:
    version, event_type, schema_version, data, metadata, occurred_at, recorded_at = row
    restricted = False
    try:
        # As stored: what append validated is not judged again by today's bounds.
        event = ev.load_stored(event_type, schema_version, data)
    except DomainError:
        # A newer deployment wrote it; show that something is there rather than break
        # the page the front desk needs while the patient is on the phone.
        log.exception("timeline: cannot read event %s v%s", event_type, schema_version)
        kind, title, detail = "record", f"{event_type} (not readable by this version)", ""
    else:
        describe = _DESCRIBERS.get(type(event), _generic)
        kind, title, detail = describe(event, version, refs)
        if kind == "restricted" and not include_restricted:
            detail = ""
        restricted = isinstance(event, ev.NoteAdded) and event.restricted
    late = recorded_at - occurred_at > _LATE_ENTRY
    return Entry(
        version=version,
        kind=kind,
        title=title,
        detail=detail,
        when=fmt.moment(occurred_at, zone_name),
        entered=fmt.moment(recorded_at, zone_name) if late else "",
        who=_who(metadata),
        restricted=restricted,
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


# --- one sentence per event type ----------------------------------------------------------

Described = tuple[str, str, str]  # kind, title, detail


def _registered(e: ev.PatientRegistered, v: int, r: _References) -> Described:
    contact = ", ".join(part for part in (fmt.phone(e.phone), e.email) if part)
    title = f"Registered {e.first_name} {e.last_name}, born {fmt.day(e.date_of_birth)}"
    return "record", title, contact


def _demographics(e: ev.DemographicsChanged, v: int, r: _References) -> Described:
    name = f"{e.first_name} {e.last_name}"
    preferred = f' (goes by "{e.preferred_name}")' if e.preferred_name else ""
    return (
        "record",
        "Name or date of birth updated",
        (f"{name}{preferred}, born {fmt.day(e.date_of_birth)}, language {e.language}"),
    )


def _contact_details(e: ev.ContactDetailsChanged, v: int, r: _References) -> Described:
    parts = [
        f"phone {fmt.phone(e.phone) or 'removed'}",
        f"email {e.email or 'none'}",
        f"time zone {e.timezone or 'from the phone number'}",
    ]
    return "record", "Contact details changed", ", ".join(parts)


def _consent_recorded(e: ev.ConsentRecorded, v: int, r: _References) -> Described:
    title = f"Consent given: {fmt.label(e.channel)} for {fmt.label(e.purpose)}"
    return "consent", title, f"source: {fmt.label(e.source)}"


def _consent_revoked(e: ev.ConsentRevoked, v: int, r: _References) -> Described:
    purpose = fmt.label(e.purpose) if e.purpose else "every purpose"
    title = f"Consent withdrawn: {fmt.label(e.channel)} for {purpose}"
    return "consent", title, f"source: {fmt.label(e.source)}"


def _call(e: ev.CallLogged, v: int, r: _References) -> Described:
    medium = "call" if e.channel is ev.Channel.VOICE else f"{fmt.label(e.channel)} conversation"
    title = f"{e.direction.value.capitalize()} {medium}, {fmt.label(e.disposition)}"
    if e.reason:
        title += f": {e.reason}"
    parts = [f"by {e.agent}"]
    if e.disposition is ev.CallDisposition.CONNECTED:
        parts.append(f"talk {fmt.duration(e.duration_seconds - e.hold_seconds)}")
        if e.hold_seconds:
            parts.append(f"hold {fmt.duration(e.hold_seconds)}")
    if e.resolved_first_contact:
        parts.append("resolved on first contact")
    return "call", title, ", ".join(parts)


def _note(e: ev.NoteAdded, v: int, r: _References) -> Described:
    title = "Restricted note (clinicians only)" if e.restricted else "Note"
    return ("restricted" if e.restricted else "note"), title, e.text


def _crisis(e: ev.CrisisContactRecorded, v: int, r: _References) -> Described:
    title = f"Crisis contact: {e.risk_level.value} risk, {fmt.label(e.handoff)}"
    detail = f"{fmt.label(e.safety_plan).capitalize()}. {e.summary}".strip()
    return "crisis", title, detail


def _crisis_cleared(e: ev.CrisisFlagCleared, v: int, r: _References) -> Described:
    return "crisis", "Crisis flag cleared", f"{e.reason} (by {e.cleared_by})"


def _scheduled(e: ev.AppointmentScheduled, v: int, r: _References) -> Described:
    title = f"Booked: {fmt.label(e.appointment_type)}, {fmt.moment(e.starts_at, r.zone_name)}"
    detail = f"{fmt.label(e.modality)} with {e.provider} at {e.location}, {e.duration_minutes} min"
    return "visit", title, detail


def _rescheduled(e: ev.AppointmentRescheduled, v: int, r: _References) -> Described:
    title = f"Rescheduled to {fmt.moment(e.starts_at, r.zone_name)}"
    detail = f"was {r.appointment(e.appointment_id, v)}"
    return "visit", title, f"{detail}. {e.reason}" if e.reason else detail


def _confirmed(e: ev.AppointmentConfirmed, v: int, r: _References) -> Described:
    return "visit", f"Visit confirmed by {fmt.label(e.via)}", r.appointment(e.appointment_id, v)


def _cancelled(e: ev.AppointmentCancelled, v: int, r: _References) -> Described:
    detail = r.appointment(e.appointment_id, v)
    title = f"Visit cancelled by the {e.cancelled_by.value}"
    return "visit", title, f"{detail}. {e.reason}" if e.reason else detail


def _completed(e: ev.AppointmentCompleted, v: int, r: _References) -> Described:
    return "visit", "Visit completed", r.appointment(e.appointment_id, v)


def _no_show(e: ev.AppointmentNoShowRecorded, v: int, r: _References) -> Described:
    return "visit", "Did not attend (no-show)", r.appointment(e.appointment_id, v)


def _test_ordered(e: ev.TestOrdered, v: int, r: _References) -> Described:
    title = f"Test ordered: {e.test_name}"
    return "test", title, f"due by {fmt.day(e.due_by)}, ordered by {e.ordered_by}"


def _test_completed(e: ev.TestCompleted, v: int, r: _References) -> Described:
    return "test", f"Test completed: {r.test(e.test_id)}", ""


def _sms_sent(e: ev.SmsSent, v: int, r: _References) -> Described:
    return "text", f"Text sent to {fmt.phone(e.to)} ({fmt.label(e.purpose)})", e.body


def _sms_delivered(e: ev.SmsDelivered, v: int, r: _References) -> Described:
    return "text", "Text delivered", ""


def _sms_failed(e: ev.SmsFailed, v: int, r: _References) -> Described:
    kind = "will not be retried" if e.permanent else "may be retried"
    return "text", f"Text not delivered ({kind})", f"{e.error_message} [{e.error_code}]"


def _sms_received(e: ev.SmsReceived, v: int, r: _References) -> Described:
    meaning = _SMS_INTENTS.get(e.intent, "")
    title = f"Text received from {fmt.phone(e.from_number)}" + (f": {meaning}" if meaning else "")
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


def _sms_status(e: ev.SmsStatusReported, v: int, r: _References) -> Described:
    return "text", f"Text {e.status.value} by the carrier", ""


def _number_opted_out(e: ev.SmsNumberOptedOut, v: int, r: _References) -> Described:
    return "consent", f"{fmt.phone(e.phone)} opted out of all texts", f"texted {e.keyword}"


def _number_opted_in(e: ev.SmsNumberOptedIn, v: int, r: _References) -> Described:
    return "consent", f"{fmt.phone(e.phone)} opted back in to texts", f"texted {e.keyword}"


def _suggestion(done: str, kind: str) -> str:
    return f"Suggestion {done}: {kind.replace('_', ' ')}"


def _suggestion_completed(e: ev.SuggestionCompleted, v: int, r: _References) -> Described:
    return "suggestion", _suggestion("done", e.kind), f"{e.outcome} (by {e.agent})"


def _suggestion_dismissed(e: ev.SuggestionDismissed, v: int, r: _References) -> Described:
    return "suggestion", _suggestion("dismissed", e.kind), f"{e.reason} (by {e.agent})"


def _suggestion_snoozed(e: ev.SuggestionSnoozed, v: int, r: _References) -> Described:
    until = fmt.moment(e.until, r.zone_name)
    return "suggestion", _suggestion("snoozed", e.kind), f"until {until} (by {e.agent})"


def _suggestion_claimed(e: ev.SuggestionClaimed, v: int, r: _References) -> Described:
    until = fmt.moment(e.until, r.zone_name)
    return "suggestion", _suggestion("taken", e.kind), f"by {e.agent} until {until}"


def _suggestion_released(e: ev.SuggestionReleased, v: int, r: _References) -> Described:
    return "suggestion", _suggestion("handed back", e.kind), f"by {e.agent}"


def _satisfaction(e: ev.SatisfactionRecorded, v: int, r: _References) -> Described:
    return "survey", f"Satisfaction survey: {e.score} of 5", f"by {fmt.label(e.channel)}"


def _deceased(e: ev.PatientDeceased, v: int, r: _References) -> Described:
    detail = f"date of death {fmt.day(e.date_of_death)}" if e.date_of_death else ""
    return "record", "Recorded as deceased", f"{detail} (by {e.recorded_by})".strip()


def _merged(e: ev.PatientsMerged, v: int, r: _References) -> Described:
    return "record", "A duplicate record was merged into this one", str(e.merged_patient_id)


def _merged_into(e: ev.PatientMergedInto, v: int, r: _References) -> Described:
    return "record", "This record was merged into another", str(e.surviving_patient_id)


def _generic(e: ev.DomainEvent, v: int, r: _References) -> Described:
    return "record", e.event_type, ""


_DESCRIBERS: dict[type[ev.DomainEvent], Callable[[Any, int, _References], Described]] = {
    ev.PatientRegistered: _registered,
    ev.DemographicsChanged: _demographics,
    ev.ContactDetailsChanged: _contact_details,
    ev.ConsentRecorded: _consent_recorded,
    ev.ConsentRevoked: _consent_revoked,
    ev.CallLogged: _call,
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
    ev.PatientsMerged: _merged,
    ev.PatientMergedInto: _merged_into,
}
_NEEDS_REFERENCES = {
    "AppointmentRescheduled",
    "AppointmentConfirmed",
    "AppointmentCancelled",
    "AppointmentCompleted",
    "AppointmentNoShowRecorded",
    "TestCompleted",
}


def described_types() -> Iterable[type[ev.DomainEvent]]:
    """Event types with a sentence of their own (the rest show their type name)."""
    return _DESCRIBERS.keys()
