"""bench.peer's aggregate and application, written as the eventsourcing library documents
them (a bench-only extra, so only bench.peer imports this module, and late)."""

from __future__ import annotations

import datetime as dt
import uuid

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from crm.domain import times


class Refused(Exception):
    """A command the patient's state refuses, as our decisions raise CommandRefused."""


class Patient(Aggregate):
    """A patient's stream: what the decisions below need of it, as our PatientState does."""

    @event("Registered")
    def __init__(self, name: str, phone: str) -> None:
        self.name = name
        self.phone = phone
        self.deceased = False
        self.calls = 0
        self.notes = 0
        self.appointments: dict[str, str] = {}

    # decide: the checks of crm.domain.decisions' log_call, add_note and schedule_appointment
    # on the aggregate, then the event, which the decorated method applies.
    def log_call(
        self,
        *,
        direction: str,
        agent: str,
        started_at: dt.datetime,
        duration_seconds: int,
        hold_seconds: int,
        wrap_up_seconds: int,
        disposition: str,
        reason: str,
        resolved_first_contact: bool,
        now: dt.datetime,
    ) -> None:
        if started_at > now:
            raise Refused("started_at is in the future")
        for name, value in (
            ("duration_seconds", duration_seconds),
            ("hold_seconds", hold_seconds),
            ("wrap_up_seconds", wrap_up_seconds),
        ):
            if not 0 <= value <= 24 * 3600:
                raise Refused(f"{name} is out of range")
        if hold_seconds > duration_seconds:
            raise Refused("hold_seconds exceeds duration_seconds")
        if resolved_first_contact and disposition != "connected":
            raise Refused("resolved_first_contact needs a call that connected")
        self._call_logged(
            uuid.uuid4(),
            direction,
            agent,
            started_at,
            duration_seconds,
            hold_seconds,
            wrap_up_seconds,
            disposition,
            reason.strip(),
            resolved_first_contact,
        )

    @event("CallLogged")
    def _call_logged(
        self,
        call_id: uuid.UUID,
        direction: str,
        agent: str,
        started_at: dt.datetime,
        duration_seconds: int,
        hold_seconds: int,
        wrap_up_seconds: int,
        disposition: str,
        reason: str,
        resolved_first_contact: bool,
    ) -> None:
        self.calls += 1

    def add_note(self, *, text: str, author: str, restricted: bool) -> None:
        if not text.strip():
            raise Refused("the note is blank")
        self._note_added(uuid.uuid4(), text.strip(), author, restricted)

    @event("NoteAdded")
    def _note_added(self, note_id: uuid.UUID, text: str, author: str, restricted: bool) -> None:
        self.notes += 1

    def schedule_appointment(
        self,
        *,
        appointment_type: str,
        starts_at: dt.datetime,
        duration_minutes: int,
        provider: str,
        location: str,
        now: dt.datetime,
    ) -> None:
        if self.deceased:
            raise Refused("the patient has died")
        appointment_id = uuid.uuid4()
        if appointment_id.hex in self.appointments:
            raise Refused("the appointment exists")
        times.check_ahead("starts_at", starts_at, now, times.APPOINTMENT_HORIZON)
        if starts_at <= now:
            raise Refused("cannot book an appointment in the past")
        if not 5 <= duration_minutes <= 480:
            raise Refused("duration_minutes is out of range")
        self._appointment_scheduled(
            appointment_id,
            appointment_type,
            starts_at,
            duration_minutes,
            provider.strip(),
            location.strip(),
        )

    @event("AppointmentScheduled")
    def _appointment_scheduled(
        self,
        appointment_id: uuid.UUID,
        appointment_type: str,
        starts_at: dt.datetime,
        duration_minutes: int,
        provider: str,
        location: str,
    ) -> None:
        self.appointments[appointment_id.hex] = starts_at.isoformat()


class Clinic(Application[uuid.UUID]):
    name = "PeerClinic"
