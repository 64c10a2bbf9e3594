"""Given-when-then helpers for domain tests: a patient's state folded from events wrapped by
hand (no database), exactly as the event store's readers fold them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid

from crm.domain import events as ev
from crm.domain.events.base import build
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold

# The same fixed Tuesday morning as the shared `now` fixture, so rules are replayable.
NOW = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
# When a `given` history starts, unless an event says otherwise: well before NOW.
HISTORY_STARTS = NOW - dt.timedelta(days=400)

PATIENT_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
SURVIVOR_ID = uuid.UUID("00000000-0000-4000-8000-000000000002")
APPOINTMENT_ID = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER_APPOINTMENT_ID = uuid.UUID("00000000-0000-4000-8000-0000000000a2")
TEST_ID = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
CRISIS_ID = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
CALL_ID = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
NOTE_ID = uuid.UUID("00000000-0000-4000-8000-0000000000e1")

PHONE = "+16175550134"


@dataclasses.dataclass(frozen=True)
class At:
    """An event that happened in the clinic at a chosen moment."""

    when: dt.datetime
    event: ev.DomainEvent


def at(when: dt.datetime, event: ev.DomainEvent) -> At:
    return At(when, event)


def recorded(
    *events: ev.DomainEvent | At, patient_id: uuid.UUID = PATIENT_ID
) -> list[RecordedEvent]:
    """Wrap events as the store would: versions 1, 2, 3..., one hour apart unless `at`."""
    stream: list[RecordedEvent] = []
    for version, item in enumerate(events, start=1):
        if isinstance(item, At):
            occurred_at, event = item.when, item.event
        else:
            occurred_at, event = HISTORY_STARTS + dt.timedelta(hours=version), item
        stream.append(
            RecordedEvent(
                position=1000 + version,
                stream_id=patient_id,
                version=version,
                event=event,
                occurred_at=occurred_at,
                recorded_at=occurred_at + dt.timedelta(seconds=2),
            )
        )
    return stream


def given(*events: ev.DomainEvent | At, patient_id: uuid.UUID = PATIENT_ID) -> PatientState:
    """The patient's state after these events."""
    return fold(patient_id, recorded(*events, patient_id=patient_id))


def read_back(event: ev.DomainEvent) -> ev.DomainEvent:
    """What a reader gets after the event went through JSON storage and validation."""
    data = json.loads(json.dumps(ev.serialize(event)))
    return ev.deserialize(event.event_type, event.schema_version, data)


def storable(events: list[ev.DomainEvent]) -> list[ev.DomainEvent]:
    """Assert the store would accept and read back each event unchanged; return them."""
    for event in events:
        assert build(type(event), json.loads(json.dumps(ev.serialize(event)))) == event
    return events


# --- events a clinic's history is made of -------------------------------------------------


def patient_registered(**overrides: object) -> ev.PatientRegistered:
    values: dict[str, object] = {
        "first_name": "Rowan",
        "last_name": "Testpatient",
        "date_of_birth": dt.date(1984, 5, 17),
        "phone": PHONE,
        "email": "rowan@example.org",
        "timezone": "",
    }
    values.update(overrides)
    return ev.PatientRegistered(**values)  # type: ignore[arg-type]


def appointment_scheduled(
    starts_at: dt.datetime = NOW + dt.timedelta(days=7),
    *,
    appointment_id: uuid.UUID = APPOINTMENT_ID,
    appointment_type: ev.AppointmentType = ev.AppointmentType.FOLLOW_UP,
) -> ev.AppointmentScheduled:
    return ev.AppointmentScheduled(
        appointment_id=appointment_id,
        appointment_type=appointment_type,
        modality=ev.Modality.IN_PERSON,
        starts_at=starts_at,
        duration_minutes=30,
        provider="Dr. Okafor",
        location="Main St clinic",
    )


def consent_recorded(
    channel: ev.Channel = ev.Channel.SMS,
    purpose: ev.ConsentPurpose = ev.ConsentPurpose.APPOINTMENT_REMINDERS,
    source: ev.ConsentSource = ev.ConsentSource.VERBAL,
) -> ev.ConsentRecorded:
    return ev.ConsentRecorded(channel=channel, purpose=purpose, source=source)


def crisis_contact_recorded(
    risk_level: ev.RiskLevel = ev.RiskLevel.HIGH,
) -> ev.CrisisContactRecorded:
    return ev.CrisisContactRecorded(
        crisis_id=CRISIS_ID,
        risk_level=risk_level,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        agent="crisis.agent",
        summary="Caller in distress; warm handoff to on-call clinician.",
    )


def call_logged(
    started_at: dt.datetime,
    disposition: ev.CallDisposition = ev.CallDisposition.CONNECTED,
    *,
    call_id: uuid.UUID = CALL_ID,
) -> ev.CallLogged:
    return ev.CallLogged(
        call_id=call_id,
        direction=ev.CallDirection.INBOUND,
        channel=ev.Channel.VOICE,
        agent="agent.one",
        started_at=started_at,
        duration_seconds=240,
        disposition=disposition,
        reason="Booking",
    )


def patient_deceased() -> ev.PatientDeceased:
    return ev.PatientDeceased(recorded_by="frontdesk.one", date_of_death=dt.date(2026, 10, 1))


def merged_into(survivor: uuid.UUID = SURVIVOR_ID) -> ev.PatientMergedInto:
    return ev.PatientMergedInto(surviving_patient_id=survivor, merged_by="frontdesk.one")
