"""The import's decisions, plain Python like crm.domain.decisions (whose checks it reuses): the
events that bring a patient's record up to what one FHIR resource says, and their time."""

from __future__ import annotations

import datetime as dt

from crm.domain import decisions, times
from crm.domain import events as ev
from crm.domain.decisions.guards import require_patient
from crm.domain.errors import CommandRefused, InvalidInput
from crm.domain.state import AppointmentState, AppointmentStatus, PatientState
from crm.fhir.mapping import CallRecord, PatientRecord, VisitRecord
from crm.fhir.resources import Refused, Skipped

_CLOSING = {
    "completed": AppointmentStatus.COMPLETED,
    "cancelled": AppointmentStatus.CANCELLED,
    "no_show": AppointmentStatus.NO_SHOW,
}
_WORDS = {
    AppointmentStatus.SCHEDULED: "booked",
    AppointmentStatus.COMPLETED: "completed",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "a no-show",
}


def clinical_time(
    record: PatientRecord | VisitRecord | CallRecord, now: dt.datetime
) -> dt.datetime:
    """When what the resource says happened in the clinic, never after `now`: a visit's end
    once it took place (or was missed), the EHR's last change for a booking, a move or a
    cancellation, a call's start; a patient's details are news as of the import."""
    if isinstance(record, CallRecord):
        return min(record.started_at, now)
    if isinstance(record, PatientRecord) or record.starts_at is None:
        return now
    if record.status in ("completed", "no_show"):
        return min(record.starts_at + dt.timedelta(minutes=record.duration_minutes), now)
    if record.status == "scheduled" and record.updated_at is None and record.booked_at:
        return min(record.booked_at, now)
    return min(record.updated_at or now, now)


def patient(
    state: PatientState, record: PatientRecord, *, recorded_by: str, now: dt.datetime
) -> list[ev.DomainEvent]:
    """Register, or bring the demographics and contact details up to the EHR's (a detail the
    EHR leaves out keeps the CRM's value); add the identifiers not yet recorded; record a
    death. A record the CRM has as deceased is never brought back by an import."""
    try:
        if state.registered:
            require_patient(state)
            found = _changes(state, record, now)
        else:
            found = _registration(state, record, now)
        known = set(state.identifiers)
        found += [
            ev.PatientIdentifierRecorded(system=system, value=value, kind=kind)
            for system, value, kind in record.identifiers
            if (system, value) not in known
        ]
        if record.deceased and not state.deceased:
            found.append(_death(record, recorded_by, now))
    except (InvalidInput, CommandRefused) as exc:
        raise Refused(str(exc)) from None
    return found


def _registration(
    state: PatientState, record: PatientRecord, now: dt.datetime
) -> list[ev.DomainEvent]:
    return decisions.register(
        state,
        first_name=record.first_name,
        last_name=record.last_name,
        date_of_birth=record.date_of_birth,
        preferred_name=record.preferred_name,
        phone=record.phone,
        email=record.email,
        language=record.language or "en",
        timezone=record.timezone,
        now=now,
    )


def _changes(state: PatientState, record: PatientRecord, now: dt.datetime) -> list[ev.DomainEvent]:
    found = decisions.change_demographics(
        state,
        first_name=record.first_name,
        last_name=record.last_name,
        date_of_birth=record.date_of_birth,
        preferred_name=record.preferred_name or state.preferred_name,
        language=record.language or state.language,
        now=now,
    )
    found += decisions.change_contact_details(
        state,
        phone=record.phone or state.phone,
        email=record.email or state.email,
        timezone=record.timezone or state.timezone,
    )
    return found


def _death(record: PatientRecord, recorded_by: str, now: dt.datetime) -> ev.DomainEvent:
    died = record.date_of_death
    if died is not None:
        times.check_past_day("deceasedDateTime", died, now.date())
        if died < record.date_of_birth:
            raise InvalidInput("deceasedDateTime", "is before the date of birth.")
    return ev.PatientDeceased(recorded_by=recorded_by, date_of_death=died)


def visit(state: PatientState, record: VisitRecord, *, now: dt.datetime) -> list[ev.DomainEvent]:
    """Book, move and close the visit as the EHR has it; refuse what contradicts the
    patient's stream (a visit the CRM has cancelled cannot become completed)."""
    try:
        require_patient(state)
    except CommandRefused as exc:
        raise Refused(str(exc)) from None
    existing = state.appointments.get(record.appointment_id)
    if record.status == "entered_in_error":
        return _entered_in_error(existing, record)
    if existing is None:
        return _new_visit(state, record, now)
    if existing.is_open:
        return _open_visit(existing, record, now)
    return _closed_visit(existing, record)


def _entered_in_error(
    existing: AppointmentState | None, record: VisitRecord
) -> list[ev.DomainEvent]:
    if existing is None:
        raise Skipped("entered in error: not a visit")
    if not existing.is_open:
        raise Refused(
            f"entered in error in the EHR, but the CRM has the visit {_WORDS[existing.status]};"
            " a closed visit cannot be undone by an import"
        )
    return [
        ev.AppointmentCancelled(
            appointment_id=record.appointment_id,
            cancelled_by=ev.CancelledBy.CLINIC,
            reason="Entered in error in the EHR.",
        )
    ]


def _new_visit(state: PatientState, record: VisitRecord, now: dt.datetime) -> list[ev.DomainEvent]:
    starts = record.starts_at
    if starts is None:
        raise Skipped("cancelled before a time was set: not a visit")
    if record.status == "cancelled" and record.key.startswith("Encounter"):
        raise Skipped("a cancelled encounter is not a visit")
    ends = starts + dt.timedelta(minutes=record.duration_minutes)
    if record.status == "scheduled" and ends > now and state.deceased:
        raise Skipped("the patient is recorded as deceased: no visit ahead is booked")
    _check_time(starts, now)
    booked = ev.AppointmentScheduled(
        appointment_id=record.appointment_id,
        appointment_type=record.appointment_type,
        modality=record.modality,
        starts_at=starts,
        duration_minutes=record.duration_minutes,
        provider=record.provider,
        location=record.location,
    )
    return [booked, *_close(record, starts, now)]


def _open_visit(
    existing: AppointmentState, record: VisitRecord, now: dt.datetime
) -> list[ev.DomainEvent]:
    found: list[ev.DomainEvent] = []
    if record.starts_at is not None and record.starts_at != existing.starts_at:
        _check_time(record.starts_at, now)
        found.append(
            ev.AppointmentRescheduled(
                appointment_id=record.appointment_id,
                starts_at=record.starts_at,
                previous_starts_at=existing.starts_at,
                reason="Moved in the EHR.",
            )
        )
    return found + _close(record, record.starts_at or existing.starts_at, now)


def _closed_visit(existing: AppointmentState, record: VisitRecord) -> list[ev.DomainEvent]:
    wanted = _CLOSING.get(record.status)
    if wanted is existing.status:
        return []
    same_time = record.starts_at is None or record.starts_at == existing.starts_at
    if wanted is None and existing.status is AppointmentStatus.COMPLETED and same_time:
        return []  # the EHR left the appointment booked while its encounter finished
    says = "booked" if wanted is None else _WORDS[wanted]
    raise Refused(
        f"says the visit is {says}, but the CRM has it {_WORDS[existing.status]}; "
        "the import does not reopen or re-close a visit"
    )


def _close(record: VisitRecord, starts: dt.datetime, now: dt.datetime) -> list[ev.DomainEvent]:
    """The event that closes the visit as the EHR has it, if it is closed."""
    aid = record.appointment_id
    if record.status == "completed":
        if starts > now + times.CLOCK_SKEW:
            raise Refused(f"says the visit took place, but it starts {starts.isoformat()}")
        return [ev.AppointmentCompleted(appointment_id=aid)]
    if record.status == "no_show":
        if starts > now:
            raise Refused(f"says the patient did not come, but it starts {starts.isoformat()}")
        return [ev.AppointmentNoShowRecorded(appointment_id=aid)]
    if record.status == "cancelled":
        return [
            ev.AppointmentCancelled(
                appointment_id=aid, cancelled_by=record.cancelled_by, reason=record.reason
            )
        ]
    return []


def _check_time(starts: dt.datetime, now: dt.datetime) -> None:
    try:
        times.check_in_range("start", starts)
        times.check_ahead("start", starts, now)
    except InvalidInput as exc:
        raise Refused(str(exc)) from None


def call(state: PatientState, record: CallRecord, *, now: dt.datetime) -> list[ev.DomainEvent]:
    """A finished telephone encounter, logged once as a connected call by the clinic."""
    try:
        require_patient(state)
        times.check_in_range("period.start", record.started_at)
        times.check_past("period.start", record.started_at, now)
    except (InvalidInput, CommandRefused) as exc:
        raise Refused(str(exc)) from None
    return [
        ev.CallLogged(
            call_id=record.call_id,
            direction=ev.CallDirection.OUTBOUND,
            channel=ev.Channel.VOICE,
            agent=record.agent,
            started_at=record.started_at,
            duration_seconds=record.duration_seconds,
            disposition=ev.CallDisposition.CONNECTED,
            reason_code=ev.OTHER_REASON if record.reason else "",
            reason=record.reason,
        )
    ]
