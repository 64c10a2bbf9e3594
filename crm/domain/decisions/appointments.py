"""Decisions on appointments (schedule, reschedule, confirm, cancel, complete, no-show) and
ordered tests."""

from __future__ import annotations

import datetime as dt
import uuid

from crm.domain import events as ev
from crm.domain import times
from crm.domain.decisions.guards import appointment_of, require_alive, require_open, require_patient
from crm.domain.errors import CommandRefused, InvalidInput
from crm.domain.state import PatientState


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
    require_patient(state)
    require_alive(state, "book an appointment")
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
    require_patient(state)
    require_alive(state, "reschedule an appointment")
    times.check_ahead("starts_at", starts_at, now, horizon)
    appointment = appointment_of(state, appointment_id)
    require_open(appointment, "reschedule this appointment")
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
    require_patient(state)
    appointment = appointment_of(state, appointment_id)
    require_open(appointment, "confirm this appointment")
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
    require_patient(state)
    appointment = appointment_of(state, appointment_id)
    require_open(appointment, "cancel this appointment")
    return [
        ev.AppointmentCancelled(
            appointment_id=appointment_id, cancelled_by=cancelled_by, reason=reason.strip()
        )
    ]


def complete_appointment(
    state: PatientState, *, appointment_id: uuid.UUID, now: dt.datetime
) -> list[ev.DomainEvent]:
    require_patient(state)
    appointment = appointment_of(state, appointment_id)
    require_open(appointment, "complete this appointment")
    if appointment.starts_at > now + times.CLOCK_SKEW:
        raise CommandRefused("Cannot complete an appointment that has not started yet.")
    return [ev.AppointmentCompleted(appointment_id=appointment_id)]


def record_no_show(
    state: PatientState, *, appointment_id: uuid.UUID, now: dt.datetime
) -> list[ev.DomainEvent]:
    require_patient(state)
    appointment = appointment_of(state, appointment_id)
    require_open(appointment, "mark this appointment as a no-show")
    if appointment.starts_at > now:
        raise CommandRefused("Cannot mark a no-show before the appointment's start time.")
    return [ev.AppointmentNoShowRecorded(appointment_id=appointment_id)]


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
    require_patient(state)
    require_alive(state, "order a test")
    if test_id in state.tests:
        raise CommandRefused(f"Test {test_id} is already ordered.")
    if due_by < now.date():
        raise InvalidInput("due_by", "is in the past.")
    times.check_day_ahead("due_by", due_by, now.date(), horizon)
    return [
        ev.TestOrdered(test_id=test_id, test_name=test_name, due_by=due_by, ordered_by=ordered_by)
    ]


def complete_test(state: PatientState, *, test_id: uuid.UUID) -> list[ev.DomainEvent]:
    require_patient(state)
    test = state.tests.get(test_id)
    if test is None:
        raise CommandRefused(f"The patient has no test {test_id}.")
    if test.completed_at is not None:
        raise CommandRefused(f"{test.test_name} is already completed.")
    return [ev.TestCompleted(test_id=test_id)]
