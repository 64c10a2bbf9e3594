"""What every decision checks first: the record exists and was not merged away, the patient is
alive, the appointment is theirs and still open."""

from __future__ import annotations

import uuid

from crm.domain.errors import CommandRefused, PatientNotFound
from crm.domain.state import AppointmentState, AppointmentStatus, PatientState


def require_patient(state: PatientState) -> None:
    if not state.registered:
        raise PatientNotFound(state.patient_id)
    if state.merged_into is not None:
        raise CommandRefused(
            f"This record was merged into patient {state.merged_into}; use that record."
        )


def require_alive(state: PatientState, doing: str) -> None:
    if state.deceased:
        raise CommandRefused(f"Cannot {doing}: the patient is recorded as deceased.")


def appointment_of(state: PatientState, appointment_id: uuid.UUID) -> AppointmentState:
    appointment = state.appointments.get(appointment_id)
    if appointment is None:
        raise CommandRefused(f"The patient has no appointment {appointment_id}.")
    return appointment


def require_open(appointment: AppointmentState, doing: str) -> None:
    if appointment.status is not AppointmentStatus.SCHEDULED:
        wording = {
            AppointmentStatus.CANCELLED: "was cancelled",
            AppointmentStatus.COMPLETED: "is already completed",
            AppointmentStatus.NO_SHOW: "was marked as a no-show",
        }[appointment.status]
        raise CommandRefused(f"Cannot {doing}: it {wording}.")
