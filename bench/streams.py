"""Synthetic but realistic patient streams: what a year or so at a clinic leaves in the log,
each event one the decisions would allow at that point."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from crm.domain import events as ev

# An event and when it happened in the clinic; the seeder wraps it for the event store.
# (This module stays free of Django so spawned processes can import it before setup.)
Happened = tuple[ev.DomainEvent, dt.datetime]

FIRST_NAMES = [
    "Maria", "James", "Aisha", "Wei", "Sofia", "Daniel", "Fatima", "Liam", "Grace", "Mateo",
    "Olivia", "Noah", "Amara", "Lucas", "Chloe", "Ethan", "Priya", "Diego", "Hannah", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Williams", "Lopez",
    "Davis", "Chen", "Miller", "Okafor", "Wilson", "Martinez", "Anderson", "Haddad", "Taylor",
]  # fmt: skip
AREA_CODES = ["617", "212", "312", "415", "713", "305", "206", "404"]
AGENTS = ["agent.ana", "agent.ben", "agent.cho", "agent.dev", "frontdesk.one", "frontdesk.two"]
PROVIDERS = ["Dr. Rivera", "Dr. Okoye", "Dr. Lindqvist", "NP Shah", "LCSW Moreau"]
LOCATIONS = ["Main St Clinic", "Riverside", "Telehealth"]
REASONS = [
    "Appointment question",
    "Refill request",
    "Billing",
    "Test results",
    "Reschedule",
    "Follow-up on last visit",
    "",
]
NOTES = [
    "Prefers morning appointments.",
    "Asked for a Spanish-speaking provider.",
    "Discussed transportation to the clinic.",
    "Caregiver (daughter) may call on the patient's behalf.",
    "Reviewed medication list; no changes.",
]
TESTS = ["A1C", "Lipid panel", "CBC", "TSH", "Vitamin D"]


@dataclass
class _Appointment:
    appointment_id: uuid.UUID
    starts_at: dt.datetime
    duration_minutes: int
    confirmed: bool = False
    reminded: bool = False


@dataclass
class _Story:
    """What the generator must remember to keep the stream valid."""

    rng: random.Random
    now: dt.datetime
    t: dt.datetime
    phone: str
    events: list[Happened] = field(default_factory=list)
    consented_sms: bool = False
    open_appointments: dict[uuid.UUID, _Appointment] = field(default_factory=dict)
    completed_appointments: list[uuid.UUID] = field(default_factory=list)
    open_tests: list[uuid.UUID] = field(default_factory=list)
    crisis_open: bool = False

    def record(self, event: ev.DomainEvent) -> None:
        self.events.append((event, self.t))

    def advance(self, low_hours: float, high_hours: float) -> None:
        step = dt.timedelta(hours=self.rng.uniform(low_hours, high_hours))
        self.t = min(self.t + step, self.now)


def metadata(rng: random.Random) -> dict[str, Any]:
    """What a handler stamps on each append, so stored rows have production's size."""
    return {
        "actor": rng.choice(AGENTS),
        "actor_id": None,
        "role": "agent",
        "channel": "api",
        "correlation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "causation_id": None,
    }


def patient_stream(
    rng: random.Random, *, length: int, now: dt.datetime, phone: str | None = None
) -> list[Happened]:
    """`length` events of one patient's history, all at or before `now`, oldest first.

    `phone` (E.164) is the patient's number; by default one of a few hundred, which is
    enough for benchmarks that never look a caller up (bench.dataset passes its own).
    Any prefix of a stream is itself a valid stream, which lets the seeder cut the last one
    to hit an exact event count.
    """
    phone = phone or f"+1{rng.choice(AREA_CODES)}55501{rng.randint(0, 99):02d}"
    story = _Story(
        rng=rng,
        now=now,
        t=now - dt.timedelta(days=rng.uniform(200, 800)),
        phone=phone,
    )
    story.record(
        ev.PatientRegistered(
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            date_of_birth=dt.date(rng.randint(1940, 2010), rng.randint(1, 12), rng.randint(1, 28)),
            preferred_name="",
            phone=phone,
            email=f"patient{rng.getrandbits(32)}@example.org" if rng.random() < 0.6 else "",
            language=rng.choice(["en", "en", "en", "es", "zh"]),
            timezone="",
        )
    )
    while len(story.events) < length:
        story.advance(2, 24 * 20)
        _next_event(story)
    return story.events[:length]


def _next_event(story: _Story) -> None:
    rng = story.rng
    due = [a for a in story.open_appointments.values() if a.starts_at <= story.t]
    if due:
        _close_appointment(story, rng.choice(due))
        return
    upcoming = list(story.open_appointments.values())
    roll = rng.random()
    if not story.consented_sms and roll < 0.3:
        story.consented_sms = True
        story.record(
            ev.ConsentRecorded(
                channel=ev.Channel.SMS,
                purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
                source=rng.choice([ev.ConsentSource.VERBAL, ev.ConsentSource.PORTAL]),
            )
        )
    elif roll < 0.45:
        _call(story)
    elif roll < 0.55 and len(upcoming) < 2:
        _schedule(story)
    elif roll < 0.68 and upcoming:
        _touch_upcoming(story, rng.choice(upcoming))
    elif roll < 0.76:
        story.record(
            ev.NoteAdded(
                note_id=_uuid(rng),
                text=rng.choice(NOTES),
                author=rng.choice(AGENTS),
                restricted=rng.random() < 0.1,
            )
        )
    elif roll < 0.82 and story.completed_appointments:
        story.record(
            ev.SatisfactionRecorded(
                score=rng.randint(3, 5),
                channel=ev.Channel.SMS,
                appointment_id=rng.choice(story.completed_appointments),
            )
        )
    elif roll < 0.88:
        _test(story)
    elif roll < 0.91:
        _crisis(story)
    elif roll < 0.93:
        story.record(
            ev.SuggestionCompleted(
                suggestion_id=f"annual_wellness:{_uuid(rng)}",
                kind="annual_wellness_due",
                outcome="booked",
                agent=rng.choice(AGENTS),
            )
        )
    elif roll < 0.95:
        story.record(
            ev.ContactDetailsChanged(
                phone=story.phone, email=f"new{rng.getrandbits(24)}@example.org", timezone=""
            )
        )
    else:
        _call(story)


def _call(story: _Story) -> None:
    rng = story.rng
    connected = rng.random() < 0.7
    disposition = (
        ev.CallDisposition.CONNECTED
        if connected
        else rng.choice([ev.CallDisposition.VOICEMAIL, ev.CallDisposition.NO_ANSWER])
    )
    duration = rng.randint(60, 900) if connected else rng.randint(0, 45)
    story.record(
        ev.CallLogged(
            call_id=_uuid(rng),
            direction=rng.choice([ev.CallDirection.INBOUND, ev.CallDirection.OUTBOUND]),
            channel=ev.Channel.VOICE,
            agent=rng.choice(AGENTS),
            started_at=story.t,
            duration_seconds=duration,
            disposition=disposition,
            reason=rng.choice(REASONS),
            resolved_first_contact=connected and rng.random() < 0.6,
            hold_seconds=min(duration, rng.randint(0, 120)),
            wrap_up_seconds=rng.randint(0, 90),
        )
    )


def _schedule(story: _Story) -> None:
    rng = story.rng
    starts_at = (story.t + dt.timedelta(days=rng.randint(2, 45))).replace(
        minute=rng.choice([0, 30]), second=0, microsecond=0
    )
    appointment = _Appointment(_uuid(rng), starts_at, rng.choice([20, 30, 45, 60]))
    story.open_appointments[appointment.appointment_id] = appointment
    story.record(
        ev.AppointmentScheduled(
            appointment_id=appointment.appointment_id,
            appointment_type=rng.choice(list(ev.AppointmentType)),
            modality=rng.choice(list(ev.Modality)),
            starts_at=starts_at,
            duration_minutes=appointment.duration_minutes,
            provider=rng.choice(PROVIDERS),
            location=rng.choice(LOCATIONS),
        )
    )


def _touch_upcoming(story: _Story, appointment: _Appointment) -> None:
    """Something that happens before an appointment: a reminder, a confirmation, a change."""
    rng = story.rng
    roll = rng.random()
    if story.consented_sms and not appointment.reminded and roll < 0.5:
        appointment.reminded = True
        message_id = _uuid(rng)
        story.record(
            ev.SmsSent(
                message_id=message_id,
                to=story.phone,
                body="Reminder: you have an appointment. Reply C to confirm, R to reschedule.",
                purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
                provider_message_id="SM" + f"{rng.getrandbits(64):016x}" * 2,  # one draw, as before
                reminder_id=_uuid(rng),
            )
        )
        story.record(ev.SmsDelivered(message_id=message_id))
        story.advance(0.1, 3)
        if rng.random() < 0.6 and not appointment.confirmed and story.t < appointment.starts_at:
            story.record(ev.SmsReceived(message_id=_uuid(rng), from_number=story.phone, body="C"))
            appointment.confirmed = True
            story.record(
                ev.AppointmentConfirmed(
                    appointment_id=appointment.appointment_id, via=ev.Channel.SMS
                )
            )
    elif not appointment.confirmed and roll < 0.75:
        appointment.confirmed = True
        story.record(
            ev.AppointmentConfirmed(appointment_id=appointment.appointment_id, via=ev.Channel.VOICE)
        )
    elif roll < 0.9:
        previous = appointment.starts_at
        appointment.starts_at = previous + dt.timedelta(days=rng.randint(1, 14))
        appointment.confirmed = False
        story.record(
            ev.AppointmentRescheduled(
                appointment_id=appointment.appointment_id,
                starts_at=appointment.starts_at,
                previous_starts_at=previous,
                reason="Patient asked for another day",
            )
        )
    else:
        del story.open_appointments[appointment.appointment_id]
        story.record(
            ev.AppointmentCancelled(
                appointment_id=appointment.appointment_id,
                cancelled_by=rng.choice(list(ev.CancelledBy)),
                reason="Could not make it",
            )
        )


def _close_appointment(story: _Story, appointment: _Appointment) -> None:
    del story.open_appointments[appointment.appointment_id]
    ended = appointment.starts_at + dt.timedelta(minutes=appointment.duration_minutes)
    story.t = min(max(story.t, ended), story.now)
    if story.rng.random() < 0.85:
        story.completed_appointments.append(appointment.appointment_id)
        story.record(ev.AppointmentCompleted(appointment_id=appointment.appointment_id))
    else:
        story.record(ev.AppointmentNoShowRecorded(appointment_id=appointment.appointment_id))


def _test(story: _Story) -> None:
    rng = story.rng
    if story.open_tests and rng.random() < 0.6:
        story.record(ev.TestCompleted(test_id=story.open_tests.pop()))
        return
    test_id = _uuid(rng)
    story.open_tests.append(test_id)
    story.record(
        ev.TestOrdered(
            test_id=test_id,
            test_name=rng.choice(TESTS),
            due_by=(story.t + dt.timedelta(days=rng.randint(7, 60))).date(),
            ordered_by=rng.choice(PROVIDERS),
        )
    )


def _crisis(story: _Story) -> None:
    rng = story.rng
    if story.crisis_open:
        story.crisis_open = False
        story.record(
            ev.CrisisFlagCleared(cleared_by="LCSW Moreau", reason="Caring-contacts follow-up done")
        )
        return
    story.crisis_open = True
    story.record(
        ev.CrisisContactRecorded(
            crisis_id=_uuid(rng),
            risk_level=rng.choice(list(ev.RiskLevel)),
            handoff=rng.choice(list(ev.CrisisHandoff)),
            safety_plan=rng.choice(list(ev.SafetyPlan)),
            agent=rng.choice(AGENTS),
            summary="Caller in distress; safety plan reviewed.",
        )
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)
