"""One line per event, in the clinic's words, for the agent reading a timeline.

Times are shown in the patient's zone. A restricted note's text appears only when the
reader may see it; everyone else learns that a restricted note exists.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from phonenumbers import NumberParseException

from crm.domain import events as ev
from crm.domain import times
from crm.domain.phones import format_national


def summarize(event: ev.DomainEvent, *, zone: zoneinfo.ZoneInfo, restricted_visible: bool) -> str:
    writer = _WRITERS.get(type(event))
    if writer is None:
        return f"{_words(event.event_type)}."
    return writer(event, _Context(zone, restricted_visible))


class _Context:
    def __init__(self, zone: zoneinfo.ZoneInfo, restricted_visible: bool) -> None:
        self.zone = zone
        self.restricted_visible = restricted_visible

    def time(self, value: dt.datetime) -> str:
        local = times.in_zone(value, self.zone)
        return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"


def _words(value: object) -> str:
    text = str(getattr(value, "value", value)).replace("_", " ")
    # "CallLogged" -> "Call logged"
    spaced = "".join(f" {c.lower()}" if c.isupper() and i else c for i, c in enumerate(text))
    return spaced[:1].upper() + spaced[1:]


def _phone(value: str | None) -> str:
    if not value:
        return "no phone"
    try:
        return format_national(value)
    except NumberParseException:  # an odd number stored by an older version: show it as it is
        return value


def _with(text: str, extra: str, joiner: str = ": ") -> str:
    return f"{text}{joiner}{extra}" if extra else text


def _registered(e: ev.PatientRegistered, c: _Context) -> str:
    return f"Registered as {e.first_name} {e.last_name}, born {e.date_of_birth:%d %b %Y}."


def _demographics(e: ev.DemographicsChanged, c: _Context) -> str:
    return (
        f"Demographics updated: {e.first_name} {e.last_name}, born {e.date_of_birth:%d %b %Y}, "
        f"language {e.language}."
    )


def _contact(e: ev.ContactDetailsChanged, c: _Context) -> str:
    parts = [f"phone {_phone(e.phone)}", f"email {e.email or 'none'}"]
    if e.timezone:
        parts.append(f"time zone {e.timezone}")
    return "Contact details updated: " + ", ".join(parts) + "."


def _consent_recorded(e: ev.ConsentRecorded, c: _Context) -> str:
    return (
        f"Consent given for {_words(e.purpose).lower()} by {e.channel.value} "
        f"({_words(e.source).lower()})."
    )


def _consent_revoked(e: ev.ConsentRevoked, c: _Context) -> str:
    purpose = _words(e.purpose).lower() if e.purpose else "all purposes"
    return f"Consent withdrawn for {purpose} by {e.channel.value} ({_words(e.source).lower()})."


def _call(e: ev.CallLogged, c: _Context) -> str:
    minutes, seconds = divmod(e.duration_seconds, 60)
    kind = "text conversation" if e.channel is ev.Channel.SMS else f"{e.channel.value} call"
    text = (
        f"{e.direction.value.capitalize()} {kind} with {e.agent} at {c.time(e.started_at)}, "
        f"{_words(e.disposition).lower()}, {minutes}m {seconds:02d}s"
    )
    text = _with(text, e.reason, "; reason: ")
    if e.resolved_first_contact:
        text += "; resolved on first contact"
    return text + "."


def _note(e: ev.NoteAdded, c: _Context) -> str:
    if not e.restricted:
        return f"Note by {e.author}: {e.text}"
    if c.restricted_visible:
        return f"Restricted note by {e.author}: {e.text}"
    return f"Restricted note by {e.author} (visible to clinicians only)."


def _crisis(e: ev.CrisisContactRecorded, c: _Context) -> str:
    text = (
        f"Crisis contact with {e.agent}: risk {e.risk_level.value}, handoff "
        f"{_words(e.handoff).lower()}, safety plan {e.safety_plan.value}."
    )
    return _with(text, e.summary, " ")


def _crisis_cleared(e: ev.CrisisFlagCleared, c: _Context) -> str:
    return f"Crisis flag cleared by {e.cleared_by}: {e.reason}"


def _scheduled(e: ev.AppointmentScheduled, c: _Context) -> str:
    return (
        f"{_words(e.appointment_type)} booked for {c.time(e.starts_at)} "
        f"({_words(e.modality).lower()}, {e.duration_minutes} min) with {e.provider} "
        f"at {e.location}."
    )


def _rescheduled(e: ev.AppointmentRescheduled, c: _Context) -> str:
    text = f"Appointment moved from {c.time(e.previous_starts_at)} to {c.time(e.starts_at)}"
    return _with(text, e.reason, "; reason: ") + "."


def _confirmed(e: ev.AppointmentConfirmed, c: _Context) -> str:
    return f"Appointment confirmed by {e.via.value}."


def _cancelled(e: ev.AppointmentCancelled, c: _Context) -> str:
    return (
        _with(f"Appointment cancelled by the {e.cancelled_by.value}", e.reason, "; reason: ") + "."
    )


def _completed(e: ev.AppointmentCompleted, c: _Context) -> str:
    return "Appointment attended and completed."


def _no_show(e: ev.AppointmentNoShowRecorded, c: _Context) -> str:
    return "Did not attend the appointment (no-show)."


def _test_ordered(e: ev.TestOrdered, c: _Context) -> str:
    return f"{e.test_name} ordered by {e.ordered_by}, due by {e.due_by:%d %b %Y}."


def _test_completed(e: ev.TestCompleted, c: _Context) -> str:
    return "Ordered test completed."


def _sms_sent(e: ev.SmsSent, c: _Context) -> str:
    return f"Text sent to {_phone(e.to)} ({_words(e.purpose).lower()}): {e.body}"


def _sms_delivered(e: ev.SmsDelivered, c: _Context) -> str:
    return "Text delivered."


def _sms_failed(e: ev.SmsFailed, c: _Context) -> str:
    kind = "permanently" if e.permanent else "for now"
    return f"Text failed {kind}: {e.error_message} ({e.error_code})."


def _sms_received(e: ev.SmsReceived, c: _Context) -> str:
    meaning = _SMS_INTENTS.get(e.intent, "")
    heard = f"Text received from {_phone(e.from_number)}" + (f" ({meaning})" if meaning else "")
    return _with(heard, e.body)


_SMS_INTENTS = {
    ev.SmsIntent.OPT_OUT: "opt-out keyword: no more texts",
    ev.SmsIntent.OPT_IN: "opted back in to texts",
    ev.SmsIntent.HELP: "asked for help",
    ev.SmsIntent.CONFIRM: "confirming the appointment",
    ev.SmsIntent.RESCHEDULE: "asks to reschedule",
    ev.SmsIntent.SATISFACTION: "satisfaction score",
    ev.SmsIntent.STOP_REQUEST: "asks us to stop texting; texts held for review",
    ev.SmsIntent.FREE_TEXT: "for a call back",
}


def _sms_status(e: ev.SmsStatusReported, c: _Context) -> str:
    return f"Text {e.status.value} by the carrier."


def _number_opted_out(e: ev.SmsNumberOptedOut, c: _Context) -> str:
    return f"{_phone(e.phone)} opted out of all texts by texting {e.keyword}."


def _number_opted_in(e: ev.SmsNumberOptedIn, c: _Context) -> str:
    return f"{_phone(e.phone)} opted back in to texts by texting {e.keyword}."


def _suggestion(kind: str) -> str:
    return f"Suggestion '{_words(kind).lower()}'"


def _suggestion_completed(e: ev.SuggestionCompleted, c: _Context) -> str:
    return f"{_suggestion(e.kind)} completed by {e.agent}: {e.outcome}"


def _suggestion_dismissed(e: ev.SuggestionDismissed, c: _Context) -> str:
    return f"{_suggestion(e.kind)} dismissed by {e.agent}: {e.reason}"


def _suggestion_snoozed(e: ev.SuggestionSnoozed, c: _Context) -> str:
    return f"{_suggestion(e.kind)} snoozed by {e.agent} until {c.time(e.until)}."


def _suggestion_claimed(e: ev.SuggestionClaimed, c: _Context) -> str:
    return f"{_suggestion(e.kind)} taken by {e.agent} until {c.time(e.until)}."


def _suggestion_released(e: ev.SuggestionReleased, c: _Context) -> str:
    return f"{_suggestion(e.kind)} handed back to the queue by {e.agent}."


def _satisfaction(e: ev.SatisfactionRecorded, c: _Context) -> str:
    return f"Satisfaction {e.score}/5, given by {e.channel.value}."


def _deceased(e: ev.PatientDeceased, c: _Context) -> str:
    when = f" (died {e.date_of_death:%d %b %Y})" if e.date_of_death else ""
    return f"Recorded as deceased by {e.recorded_by}{when}."


def _merged(e: ev.PatientsMerged, c: _Context) -> str:
    return f"Duplicate record {e.merged_patient_id} merged into this one by {e.merged_by}."


def _merged_into(e: ev.PatientMergedInto, c: _Context) -> str:
    return f"Merged into record {e.surviving_patient_id} by {e.merged_by}; use that record."


_WRITERS: dict[type[ev.DomainEvent], Callable[[Any, _Context], str]] = {
    ev.PatientRegistered: _registered,
    ev.DemographicsChanged: _demographics,
    ev.ContactDetailsChanged: _contact,
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


def event_types_with_summaries() -> set[str]:
    return {cls.event_type for cls in _WRITERS}
