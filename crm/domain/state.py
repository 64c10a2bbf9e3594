"""A patient's current state: a left fold over the events of their stream, the one source of
truth for decisions, the profile and any "as of" view (I5, I7)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent


class AppointmentStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


@dataclass(slots=True)
class AppointmentState:
    appointment_id: uuid.UUID
    appointment_type: ev.AppointmentType
    modality: ev.Modality
    starts_at: dt.datetime
    duration_minutes: int
    provider: str
    location: str
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    confirmed: bool = False
    closed_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is AppointmentStatus.SCHEDULED


@dataclass(slots=True)
class ConsentState:
    granted: bool
    at: dt.datetime
    source: str


@dataclass(slots=True)
class CrisisContact:
    crisis_id: uuid.UUID
    at: dt.datetime
    risk_level: ev.RiskLevel
    handoff: ev.CrisisHandoff
    safety_plan: ev.SafetyPlan


@dataclass(slots=True)
class TestState:
    __test__ = False

    test_id: uuid.UUID
    test_name: str
    due_by: dt.date
    ordered_at: dt.datetime
    completed_at: dt.datetime | None = None


def consent_key(channel: ev.Channel, purpose: ev.ConsentPurpose) -> str:
    return f"{channel.value}:{purpose.value}"


@dataclass(slots=True)
class PatientState:
    patient_id: uuid.UUID
    version: int = 0
    registered_at: dt.datetime | None = None
    first_name: str = ""
    last_name: str = ""
    preferred_name: str = ""
    date_of_birth: dt.date | None = None
    language: str = "en"
    phone: str | None = None
    email: str = ""
    timezone: str = ""  # explicit zone only; the profile derives one when blank
    consents: dict[str, ConsentState] = field(default_factory=dict)
    crisis_open: bool = False
    last_crisis: CrisisContact | None = None
    crisis_contacts: int = 0
    deceased: bool = False
    date_of_death: dt.date | None = None
    merged_into: uuid.UUID | None = None
    merged_from: list[uuid.UUID] = field(default_factory=list)
    appointments: dict[uuid.UUID, AppointmentState] = field(default_factory=dict)
    tests: dict[uuid.UUID, TestState] = field(default_factory=dict)
    calls: int = 0
    no_shows: int = 0
    notes: int = 0
    last_contact_at: dt.datetime | None = None
    last_visit_by_type: dict[str, dt.datetime] = field(default_factory=dict)
    # Identifiers in other systems (an EHR's MRN): (system, value) -> kind, in recorded order.
    identifiers: dict[tuple[str, str], str] = field(default_factory=dict)
    last_recorded_at: dt.datetime | None = None

    @property
    def registered(self) -> bool:
        return self.registered_at is not None

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}".strip()

    def has_consent(self, channel: ev.Channel, purpose: ev.ConsentPurpose) -> bool:
        consent = self.consents.get(consent_key(channel, purpose))
        return consent is not None and consent.granted

    def open_appointments(self) -> list[AppointmentState]:
        return sorted(
            (a for a in self.appointments.values() if a.is_open), key=lambda a: a.starts_at
        )

    # --- the fold ----------------------------------------------------------------------

    def apply(self, recorded: RecordedEvent) -> None:
        handler = _APPLIERS.get(type(recorded.event))
        if handler is not None:
            handler(self, recorded.event, recorded.occurred_at)
        self.version = recorded.version
        self.last_recorded_at = recorded.recorded_at

    def apply_all(self, recorded: Iterable[RecordedEvent]) -> PatientState:
        for item in recorded:
            self.apply(item)
        return self

    def _touch_contact(self, at: dt.datetime) -> None:
        if self.last_contact_at is None or at > self.last_contact_at:
            self.last_contact_at = at


def fold(patient_id: uuid.UUID, recorded: Iterable[RecordedEvent]) -> PatientState:
    return PatientState(patient_id=patient_id).apply_all(recorded)


def _registered(s: PatientState, e: ev.PatientRegistered, at: dt.datetime) -> None:
    s.registered_at = at
    s.first_name, s.last_name, s.preferred_name = e.first_name, e.last_name, e.preferred_name
    s.date_of_birth, s.language = e.date_of_birth, e.language
    s.phone, s.email, s.timezone = e.phone, e.email, e.timezone


def _demographics(s: PatientState, e: ev.DemographicsChanged, at: dt.datetime) -> None:
    s.first_name, s.last_name, s.preferred_name = e.first_name, e.last_name, e.preferred_name
    s.date_of_birth, s.language = e.date_of_birth, e.language


def _contact_details(s: PatientState, e: ev.ContactDetailsChanged, at: dt.datetime) -> None:
    s.phone, s.email, s.timezone = e.phone, e.email, e.timezone


def _consent_recorded(s: PatientState, e: ev.ConsentRecorded, at: dt.datetime) -> None:
    s.consents[consent_key(e.channel, e.purpose)] = ConsentState(True, at, e.source.value)


def _consent_revoked(s: PatientState, e: ev.ConsentRevoked, at: dt.datetime) -> None:
    purposes = [e.purpose] if e.purpose is not None else list(ev.ConsentPurpose)
    for purpose in purposes:
        s.consents[consent_key(e.channel, purpose)] = ConsentState(False, at, e.source.value)


def _call_logged(s: PatientState, e: ev.CallLogged, at: dt.datetime) -> None:
    s.calls += 1
    if e.disposition is ev.CallDisposition.CONNECTED:
        s._touch_contact(e.started_at)


def _note_added(s: PatientState, e: ev.NoteAdded, at: dt.datetime) -> None:
    s.notes += 1


def _crisis_recorded(s: PatientState, e: ev.CrisisContactRecorded, at: dt.datetime) -> None:
    s.crisis_open = True
    s.crisis_contacts += 1
    s.last_crisis = CrisisContact(e.crisis_id, at, e.risk_level, e.handoff, e.safety_plan)
    s._touch_contact(at)


def _crisis_cleared(s: PatientState, e: ev.CrisisFlagCleared, at: dt.datetime) -> None:
    s.crisis_open = False


def _scheduled(s: PatientState, e: ev.AppointmentScheduled, at: dt.datetime) -> None:
    s.appointments[e.appointment_id] = AppointmentState(
        appointment_id=e.appointment_id,
        appointment_type=e.appointment_type,
        modality=e.modality,
        starts_at=e.starts_at,
        duration_minutes=e.duration_minutes,
        provider=e.provider,
        location=e.location,
    )


def _rescheduled(s: PatientState, e: ev.AppointmentRescheduled, at: dt.datetime) -> None:
    appointment = s.appointments[e.appointment_id]
    appointment.starts_at = e.starts_at
    appointment.confirmed = False  # a new time needs a new confirmation


def _confirmed(s: PatientState, e: ev.AppointmentConfirmed, at: dt.datetime) -> None:
    s.appointments[e.appointment_id].confirmed = True


def _close(
    s: PatientState, appointment_id: uuid.UUID, status: AppointmentStatus, at: dt.datetime
) -> AppointmentState:
    appointment = s.appointments[appointment_id]
    appointment.status = status
    appointment.closed_at = at
    return appointment


def _cancelled(s: PatientState, e: ev.AppointmentCancelled, at: dt.datetime) -> None:
    _close(s, e.appointment_id, AppointmentStatus.CANCELLED, at)


def _completed(s: PatientState, e: ev.AppointmentCompleted, at: dt.datetime) -> None:
    appointment = _close(s, e.appointment_id, AppointmentStatus.COMPLETED, at)
    kind = appointment.appointment_type.value
    previous = s.last_visit_by_type.get(kind)
    if previous is None or appointment.starts_at > previous:
        s.last_visit_by_type[kind] = appointment.starts_at
    s._touch_contact(appointment.starts_at)


def _no_show(s: PatientState, e: ev.AppointmentNoShowRecorded, at: dt.datetime) -> None:
    _close(s, e.appointment_id, AppointmentStatus.NO_SHOW, at)
    s.no_shows += 1


def _test_ordered(s: PatientState, e: ev.TestOrdered, at: dt.datetime) -> None:
    s.tests[e.test_id] = TestState(e.test_id, e.test_name, e.due_by, at)


def _test_completed(s: PatientState, e: ev.TestCompleted, at: dt.datetime) -> None:
    s.tests[e.test_id].completed_at = at


def _sms_received(s: PatientState, e: ev.SmsReceived, at: dt.datetime) -> None:
    s._touch_contact(at)


def _deceased(s: PatientState, e: ev.PatientDeceased, at: dt.datetime) -> None:
    s.deceased = True
    s.date_of_death = e.date_of_death


def _identifier(s: PatientState, e: ev.PatientIdentifierRecorded, at: dt.datetime) -> None:
    s.identifiers[(e.system, e.value)] = e.kind


def _merged(s: PatientState, e: ev.PatientsMerged, at: dt.datetime) -> None:
    s.merged_from.append(e.merged_patient_id)


def _merged_into(s: PatientState, e: ev.PatientMergedInto, at: dt.datetime) -> None:
    s.merged_into = e.surviving_patient_id


_APPLIERS: dict[
    type[ev.DomainEvent], Callable[[PatientState, ev.DomainEvent, dt.datetime], None]
] = {
    ev.PatientRegistered: _registered,  # type: ignore[dict-item]
    ev.DemographicsChanged: _demographics,  # type: ignore[dict-item]
    ev.ContactDetailsChanged: _contact_details,  # type: ignore[dict-item]
    ev.ConsentRecorded: _consent_recorded,  # type: ignore[dict-item]
    ev.ConsentRevoked: _consent_revoked,  # type: ignore[dict-item]
    ev.CallLogged: _call_logged,  # type: ignore[dict-item]
    ev.NoteAdded: _note_added,  # type: ignore[dict-item]
    ev.CrisisContactRecorded: _crisis_recorded,  # type: ignore[dict-item]
    ev.CrisisFlagCleared: _crisis_cleared,  # type: ignore[dict-item]
    ev.AppointmentScheduled: _scheduled,  # type: ignore[dict-item]
    ev.AppointmentRescheduled: _rescheduled,  # type: ignore[dict-item]
    ev.AppointmentConfirmed: _confirmed,  # type: ignore[dict-item]
    ev.AppointmentCancelled: _cancelled,  # type: ignore[dict-item]
    ev.AppointmentCompleted: _completed,  # type: ignore[dict-item]
    ev.AppointmentNoShowRecorded: _no_show,  # type: ignore[dict-item]
    ev.TestOrdered: _test_ordered,  # type: ignore[dict-item]
    ev.TestCompleted: _test_completed,  # type: ignore[dict-item]
    ev.SmsReceived: _sms_received,  # type: ignore[dict-item]
    ev.PatientDeceased: _deceased,  # type: ignore[dict-item]
    ev.PatientIdentifierRecorded: _identifier,  # type: ignore[dict-item]
    ev.PatientsMerged: _merged,  # type: ignore[dict-item]
    ev.PatientMergedInto: _merged_into,  # type: ignore[dict-item]
}
