"""Decisions: pure functions from a patient's state (and `now`) to the events to record, or
`CommandRefused` / `InvalidInput` (state forbids it / value malformed); no clock, no database."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
import zoneinfo
from collections.abc import Mapping
from types import MappingProxyType

from crm.domain import events as ev
from crm.domain import times
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.domain.state import AppointmentState, AppointmentStatus, PatientState

OLDEST_PATIENT_YEARS = 130
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
# C0 and C1 control characters (ESC, BEL, a newline...): no name or address holds one, and
# each would reach the texts a patient receives and every screen that shows the name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


_NO_REASONS: Mapping[str, str] = MappingProxyType({})


# --- guards ------------------------------------------------------------------------------


def _require_patient(state: PatientState) -> None:
    if not state.registered:
        raise PatientNotFound(state.patient_id)
    if state.merged_into is not None:
        raise CommandRefused(
            f"This record was merged into patient {state.merged_into}; use that record."
        )


def _require_alive(state: PatientState, doing: str) -> None:
    if state.deceased:
        raise CommandRefused(f"Cannot {doing}: the patient is recorded as deceased.")


def _appointment(state: PatientState, appointment_id: uuid.UUID) -> AppointmentState:
    appointment = state.appointments.get(appointment_id)
    if appointment is None:
        raise CommandRefused(f"The patient has no appointment {appointment_id}.")
    return appointment


def _require_open(appointment: AppointmentState, doing: str) -> None:
    if appointment.status is not AppointmentStatus.SCHEDULED:
        wording = {
            AppointmentStatus.CANCELLED: "was cancelled",
            AppointmentStatus.COMPLETED: "is already completed",
            AppointmentStatus.NO_SHOW: "was marked as a no-show",
        }[appointment.status]
        raise CommandRefused(f"Cannot {doing}: it {wording}.")


def _check_demographics(
    *,
    first_name: str,
    last_name: str,
    preferred_name: str,
    date_of_birth: dt.date,
    language: str,
    now: dt.datetime,
) -> None:
    if not first_name.strip():
        raise InvalidInput("first_name", "must not be blank.")
    if not last_name.strip():
        raise InvalidInput("last_name", "must not be blank.")
    names = {"first_name": first_name, "last_name": last_name, "preferred_name": preferred_name}
    for field, name in names.items():
        if _CONTROL.search(name):
            raise InvalidInput(field, "must not hold control characters (tab, newline, escape).")
    # Not before 1900 like other days: a patient may be up to 130 years old.
    if date_of_birth > now.date():
        raise InvalidInput("date_of_birth", "is in the future.")
    today = now.date()
    # 29 February has no twin 130 years back in a common year; 28 February stands in.
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    if date_of_birth < today.replace(year=today.year - OLDEST_PATIENT_YEARS, day=day):
        raise InvalidInput("date_of_birth", f"is more than {OLDEST_PATIENT_YEARS} years ago.")
    if not _LANGUAGE.fullmatch(language):
        raise InvalidInput("language", "must be a language code such as 'en' or 'es'.")


def _check_contact(*, email: str, timezone: str) -> None:
    email = email.strip()  # validate what will be stored: the callers store it stripped
    if email and (not _EMAIL.match(email) or _CONTROL.search(email)):
        raise InvalidInput("email", f"{email!r} is not an email address.")
    if timezone and timezone not in _zone_names():
        raise InvalidInput(
            "timezone", f"{timezone!r} is not a time zone such as 'America/Chicago'."
        )


@functools.cache
def _zone_names() -> frozenset[str]:
    """The IANA zones, not every file ZoneInfo opens: "right/..." files count leap seconds,
    which zoneinfo misreads (New York in EDT all December, quiet hours an hour off);
    "localtime" is whatever zone the host runs in, so two hosts would read one event two
    ways; "Factory" and "posixrules" are no place a patient lives."""
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "Factory", "posixrules"}


# --- registration and contact details ----------------------------------------------------


def register(
    state: PatientState,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    preferred_name: str,
    phone: str | None,
    email: str,
    language: str,
    timezone: str,
    now: dt.datetime,
) -> list[ev.DomainEvent]:
    if state.version > 0:
        raise CommandRefused(f"Patient {state.patient_id} is already registered.")
    _check_demographics(
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        language=language,
        now=now,
    )
    _check_contact(email=email, timezone=timezone)
    return [
        ev.PatientRegistered(
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            preferred_name=preferred_name.strip(),
            date_of_birth=date_of_birth,
            phone=phone,
            email=email.strip(),
            language=language,
            timezone=timezone,
        )
    ]


def change_demographics(
    state: PatientState,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    preferred_name: str,
    language: str,
    now: dt.datetime,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    _check_demographics(
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        language=language,
        now=now,
    )
    new = (first_name.strip(), last_name.strip(), date_of_birth, preferred_name.strip(), language)
    old = (
        state.first_name,
        state.last_name,
        state.date_of_birth,
        state.preferred_name,
        state.language,
    )
    if new == old:
        return []
    return [
        ev.DemographicsChanged(
            first_name=new[0],
            last_name=new[1],
            date_of_birth=date_of_birth,
            preferred_name=new[3],
            language=language,
        )
    ]


def change_contact_details(
    state: PatientState, *, phone: str | None, email: str, timezone: str
) -> list[ev.DomainEvent]:
    _require_patient(state)
    _check_contact(email=email, timezone=timezone)
    if (phone, email.strip(), timezone) == (state.phone, state.email, state.timezone):
        return []
    return [ev.ContactDetailsChanged(phone=phone, email=email.strip(), timezone=timezone)]


# --- consent -----------------------------------------------------------------------------


def record_consent(
    state: PatientState,
    *,
    channel: ev.Channel,
    purpose: ev.ConsentPurpose,
    source: ev.ConsentSource,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    _require_alive(state, "record consent")
    if channel in (ev.Channel.SMS, ev.Channel.VOICE) and state.phone is None:
        raise CommandRefused(f"Cannot record {channel.value} consent: no phone number on file.")
    if channel is ev.Channel.EMAIL and not state.email:
        raise CommandRefused("Cannot record email consent: no email address on file.")
    if state.has_consent(channel, purpose):
        return []
    return [ev.ConsentRecorded(channel=channel, purpose=purpose, source=source)]


def revoke_consent(
    state: PatientState,
    *,
    channel: ev.Channel,
    purpose: ev.ConsentPurpose | None,
    source: ev.ConsentSource,
) -> list[ev.DomainEvent]:
    # Always recorded, even when nothing was granted: an opt-out must never be lost.
    _require_patient(state)
    phone = state.phone if channel is ev.Channel.SMS else None
    return [ev.ConsentRevoked(channel=channel, purpose=purpose, source=source, phone=phone)]


# --- calls, notes, crisis ----------------------------------------------------------------


def log_call(
    state: PatientState,
    *,
    call_id: uuid.UUID,
    direction: ev.CallDirection,
    channel: ev.Channel,
    agent: str,
    started_at: dt.datetime,
    duration_seconds: int,
    hold_seconds: int,
    wrap_up_seconds: int,
    disposition: ev.CallDisposition,
    reason: str,
    resolved_first_contact: bool,
    now: dt.datetime,
    reason_code: str = "",
    reasons: Mapping[str, str] = _NO_REASONS,
) -> list[ev.DomainEvent]:
    """`reasons` is the clinic's list of contact reasons, code to label, as it stands now
    (needed only for a listed `reason_code`; see `contact_reason`)."""
    _require_patient(state)
    times.check_past("started_at", started_at, now)
    reason_code, reason = contact_reason(reason_code, reason.strip(), reasons)
    for name, value in (
        ("duration_seconds", duration_seconds),
        ("hold_seconds", hold_seconds),
        ("wrap_up_seconds", wrap_up_seconds),
    ):
        if value < 0:
            raise InvalidInput(name, "must not be negative.")
        if value > 24 * 3600:
            raise InvalidInput(name, "must be at most 24 hours.")
    if hold_seconds > duration_seconds:
        raise InvalidInput("hold_seconds", "must not exceed duration_seconds.")
    if resolved_first_contact and disposition is not ev.CallDisposition.CONNECTED:
        raise InvalidInput("resolved_first_contact", "can only be true for a call that connected.")
    return [
        ev.CallLogged(
            call_id=call_id,
            direction=direction,
            channel=channel,
            agent=agent,
            started_at=started_at,
            duration_seconds=duration_seconds,
            hold_seconds=hold_seconds,
            wrap_up_seconds=wrap_up_seconds,
            disposition=disposition,
            reason_code=reason_code,
            reason=reason,
            resolved_first_contact=resolved_first_contact,
        )
    ]


def contact_reason(code: str, words: str, reasons: Mapping[str, str]) -> tuple[str, str]:
    """The (code, words) a call is logged with. A code must be one of the clinic's reasons
    or "other" (which needs words); a listed reason without words keeps its label. Words
    without a code are an "other" reason, as free text logged before the list was."""
    code = code.strip()
    if not code:
        return (ev.OTHER_REASON, words) if words else ("", "")
    if code == ev.OTHER_REASON:
        if not words:
            raise InvalidInput(
                "reason", "must say what the contact was about when the reason is other."
            )
        return code, words
    if code not in reasons:
        allowed = ", ".join([*reasons, ev.OTHER_REASON])
        raise InvalidInput("reason_code", f"must be one of the clinic's reasons: {allowed}.")
    return code, words or reasons[code]


def add_note(
    state: PatientState, *, note_id: uuid.UUID, text: str, author: str, restricted: bool
) -> list[ev.DomainEvent]:
    _require_patient(state)
    if not text.strip():
        raise InvalidInput("text", "must not be blank.")
    return [ev.NoteAdded(note_id=note_id, text=text.strip(), author=author, restricted=restricted)]


def record_crisis_contact(
    state: PatientState,
    *,
    crisis_id: uuid.UUID,
    risk_level: ev.RiskLevel,
    handoff: ev.CrisisHandoff,
    safety_plan: ev.SafetyPlan,
    agent: str,
    summary: str,
) -> list[ev.DomainEvent]:
    # Deliberately no deceased or merged guard beyond existence: a crisis contact is
    # always recorded, whatever else the record says.
    if not state.registered:
        raise PatientNotFound(state.patient_id)
    return [
        ev.CrisisContactRecorded(
            crisis_id=crisis_id,
            risk_level=risk_level,
            handoff=handoff,
            safety_plan=safety_plan,
            agent=agent,
            summary=summary.strip(),
        )
    ]


def clear_crisis_flag(state: PatientState, *, cleared_by: str, reason: str) -> list[ev.DomainEvent]:
    _require_patient(state)
    if not state.crisis_open:
        raise CommandRefused("The patient has no open crisis flag to clear.")
    if not reason.strip():
        raise InvalidInput("reason", "must say why the crisis flag is cleared.")
    return [ev.CrisisFlagCleared(cleared_by=cleared_by, reason=reason.strip())]


# --- appointments ------------------------------------------------------------------------


def schedule_appointment(
    state: PatientState,
    *,
    appointment_id: uuid.UUID,
    appointment_type: ev.AppointmentType,
    modality: ev.Modality,
    starts_at: dt.datetime,
    duration_minutes: int,
    provider: str,
    location: str,
    now: dt.datetime,
    horizon: dt.timedelta = times.APPOINTMENT_HORIZON,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    _require_alive(state, "book an appointment")
    if appointment_id in state.appointments:
        raise CommandRefused(f"Appointment {appointment_id} already exists.")
    times.check_ahead("starts_at", starts_at, now, horizon)
    if starts_at <= now:
        raise CommandRefused("Cannot book an appointment in the past.")
    if not 5 <= duration_minutes <= 480:
        raise InvalidInput("duration_minutes", "must be between 5 and 480 minutes.")
    return [
        ev.AppointmentScheduled(
            appointment_id=appointment_id,
            appointment_type=appointment_type,
            modality=modality,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            provider=provider.strip(),
            location=location.strip(),
        )
    ]


def reschedule_appointment(
    state: PatientState,
    *,
    appointment_id: uuid.UUID,
    starts_at: dt.datetime,
    reason: str,
    now: dt.datetime,
    horizon: dt.timedelta = times.APPOINTMENT_HORIZON,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    _require_alive(state, "reschedule an appointment")
    times.check_ahead("starts_at", starts_at, now, horizon)
    appointment = _appointment(state, appointment_id)
    _require_open(appointment, "reschedule this appointment")
    if starts_at <= now:
        raise CommandRefused("Cannot reschedule an appointment into the past.")
    if starts_at == appointment.starts_at:
        raise CommandRefused("The appointment is already at that time.")
    return [
        ev.AppointmentRescheduled(
            appointment_id=appointment_id,
            starts_at=starts_at,
            previous_starts_at=appointment.starts_at,
            reason=reason.strip(),
        )
    ]


def confirm_appointment(
    state: PatientState, *, appointment_id: uuid.UUID, via: ev.Channel, now: dt.datetime
) -> list[ev.DomainEvent]:
    _require_patient(state)
    appointment = _appointment(state, appointment_id)
    _require_open(appointment, "confirm this appointment")
    if appointment.starts_at <= now:
        raise CommandRefused("Cannot confirm an appointment that has already started.")
    if appointment.confirmed:
        return []
    return [ev.AppointmentConfirmed(appointment_id=appointment_id, via=via)]


def cancel_appointment(
    state: PatientState,
    *,
    appointment_id: uuid.UUID,
    cancelled_by: ev.CancelledBy,
    reason: str,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    appointment = _appointment(state, appointment_id)
    _require_open(appointment, "cancel this appointment")
    return [
        ev.AppointmentCancelled(
            appointment_id=appointment_id, cancelled_by=cancelled_by, reason=reason.strip()
        )
    ]


def complete_appointment(
    state: PatientState, *, appointment_id: uuid.UUID, now: dt.datetime
) -> list[ev.DomainEvent]:
    _require_patient(state)
    appointment = _appointment(state, appointment_id)
    _require_open(appointment, "complete this appointment")
    if appointment.starts_at > now + times.CLOCK_SKEW:
        raise CommandRefused("Cannot complete an appointment that has not started yet.")
    return [ev.AppointmentCompleted(appointment_id=appointment_id)]


def record_no_show(
    state: PatientState, *, appointment_id: uuid.UUID, now: dt.datetime
) -> list[ev.DomainEvent]:
    _require_patient(state)
    appointment = _appointment(state, appointment_id)
    _require_open(appointment, "mark this appointment as a no-show")
    if appointment.starts_at > now:
        raise CommandRefused("Cannot mark a no-show before the appointment's start time.")
    return [ev.AppointmentNoShowRecorded(appointment_id=appointment_id)]


# --- tests -------------------------------------------------------------------------------


def order_test(
    state: PatientState,
    *,
    test_id: uuid.UUID,
    test_name: str,
    due_by: dt.date,
    ordered_by: str,
    now: dt.datetime,
    horizon: dt.timedelta = times.APPOINTMENT_HORIZON,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    _require_alive(state, "order a test")
    if test_id in state.tests:
        raise CommandRefused(f"Test {test_id} is already ordered.")
    if due_by < now.date():
        raise InvalidInput("due_by", "is in the past.")
    times.check_day_ahead("due_by", due_by, now.date(), horizon)
    return [
        ev.TestOrdered(test_id=test_id, test_name=test_name, due_by=due_by, ordered_by=ordered_by)
    ]


def complete_test(state: PatientState, *, test_id: uuid.UUID) -> list[ev.DomainEvent]:
    _require_patient(state)
    test = state.tests.get(test_id)
    if test is None:
        raise CommandRefused(f"The patient has no test {test_id}.")
    if test.completed_at is not None:
        raise CommandRefused(f"{test.test_name} is already completed.")
    return [ev.TestCompleted(test_id=test_id)]


# --- satisfaction, death, merge ----------------------------------------------------------


def record_satisfaction(
    state: PatientState,
    *,
    score: int,
    channel: ev.Channel,
    appointment_id: uuid.UUID | None,
) -> list[ev.DomainEvent]:
    _require_patient(state)
    if not 1 <= score <= 5:
        raise InvalidInput("score", "must be from 1 to 5.")
    if appointment_id is not None:
        _appointment(state, appointment_id)
    return [ev.SatisfactionRecorded(score=score, channel=channel, appointment_id=appointment_id)]


def mark_deceased(
    state: PatientState, *, date_of_death: dt.date | None, recorded_by: str, now: dt.datetime
) -> list[ev.DomainEvent]:
    _require_patient(state)
    if state.deceased:
        raise CommandRefused("The patient is already recorded as deceased.")
    if date_of_death is not None:
        times.check_past_day("date_of_death", date_of_death, now.date())
    if (
        date_of_death is not None
        and state.date_of_birth is not None
        and date_of_death < state.date_of_birth
    ):
        raise InvalidInput("date_of_death", "is before the date of birth.")
    return [ev.PatientDeceased(date_of_death=date_of_death, recorded_by=recorded_by)]


def merge(
    survivor: PatientState, duplicate: PatientState, *, merged_by: str
) -> tuple[list[ev.DomainEvent], list[ev.DomainEvent]]:
    """Events for the surviving record and for the duplicate, in that order."""
    _require_patient(survivor)
    _require_patient(duplicate)
    if survivor.patient_id == duplicate.patient_id:
        raise CommandRefused("Cannot merge a patient into itself.")
    return (
        [ev.PatientsMerged(merged_patient_id=duplicate.patient_id, merged_by=merged_by)],
        [ev.PatientMergedInto(surviving_patient_id=survivor.patient_id, merged_by=merged_by)],
    )
