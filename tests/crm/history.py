"""A long randomized clinic history driven through the real command handlers."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.domain.state import fold
from crm.handlers import Actor

ACTOR = Actor(name="agent.random", channel="api", role="agent")


def random_history(
    seed: int, *, patients: int = 30, commands: int = 600, start: dt.datetime | None = None
) -> int:
    """Run `commands` random commands (refusals included) over `patients`; return how many
    were accepted."""
    rng = random.Random(seed)
    clock = start or dt.datetime(2025, 1, 6, 13, 0, tzinfo=dt.UTC)
    ids = []
    for n in range(patients):
        clock += dt.timedelta(minutes=rng.randint(1, 30))
        ids.append(_register(rng, n, clock))
    accepted = 0
    for _ in range(commands):
        clock += dt.timedelta(minutes=rng.randint(5, 900))
        patient = rng.choice(ids)
        state = fold(patient, eventstore.read_stream(patient))
        appointment = rng.choice(list(state.appointments)) if state.appointments else uuid.uuid4()
        try:
            _random_command(rng, patient, appointment, clock)
            accepted += 1
        except DomainError:
            pass  # refusals are part of a realistic day; they must leave no trace
    return accepted


def _register(rng: random.Random, n: int, clock: dt.datetime) -> uuid.UUID:
    return handlers.patient_register(
        first_name=f"Patient{n}",
        last_name=rng.choice(["Alder", "Birch", "Cedar", "Dogwood"]),
        date_of_birth=dt.date(1940 + rng.randint(0, 60), rng.randint(1, 12), 1),
        phone=f"+1617555{rng.randint(100, 199):04d}" if rng.random() < 0.9 else None,
        language=rng.choice(["en", "en", "es"]),
        actor=ACTOR,
        now=clock,
        occurred_at=clock,
        patient_id=uuid.UUID(int=rng.getrandbits(128), version=4),
    ).patient_id


def _random_command(
    rng: random.Random, patient: uuid.UUID, appointment: uuid.UUID, clock: dt.datetime
) -> None:
    """One command picked at random, about `appointment` when it concerns a visit."""
    common: dict[str, Any] = {"patient_id": patient, "actor": ACTOR, "occurred_at": clock}
    choice = rng.randrange(12)
    if choice < 3:
        handlers.call_log(
            **common,
            direction=rng.choice(list(ev.CallDirection)),
            channel=rng.choice([ev.Channel.VOICE, ev.Channel.VOICE, ev.Channel.SMS]),
            started_at=clock,
            duration_seconds=rng.randint(0, 900),
            disposition=rng.choice(list(ev.CallDisposition)),
            reason=rng.choice(["billing", "refill", "booking", ""]),
            now=clock,
        )
    elif choice == 3:
        handlers.appointment_schedule(
            **common,
            appointment_type=rng.choice(list(ev.AppointmentType)),
            modality=rng.choice(list(ev.Modality)),
            starts_at=clock + dt.timedelta(hours=rng.randint(2, 24 * 20)),
            provider="Dr. Random",
            location="Main",
            now=clock,
            appointment_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        )
    elif choice == 4:
        handlers.appointment_complete(**common, appointment_id=appointment, now=clock)
    elif choice == 5:
        handlers.appointment_no_show(**common, appointment_id=appointment, now=clock)
    elif choice == 6:
        handlers.appointment_reschedule(
            **common,
            appointment_id=appointment,
            starts_at=clock + dt.timedelta(days=rng.randint(1, 9)),
            now=clock,
        )
    elif choice == 7:
        handlers.appointment_cancel(
            **common,
            appointment_id=appointment,
            cancelled_by=rng.choice(list(ev.CancelledBy)),
        )
    elif choice == 8:
        handlers.appointment_confirm(**common, appointment_id=appointment, now=clock)
    elif choice == 9:
        (handlers.consent_record if rng.random() < 0.7 else handlers.consent_revoke)(
            **common,
            channel=ev.Channel.SMS,
            purpose=rng.choice(list(ev.ConsentPurpose)),
            source=ev.ConsentSource.VERBAL,
        )
    elif choice == 10:
        if rng.random() < 0.6:
            handlers.crisis_contact_record(
                **common,
                risk_level=rng.choice(list(ev.RiskLevel)),
                handoff=rng.choice(list(ev.CrisisHandoff)),
                safety_plan=rng.choice(list(ev.SafetyPlan)),
            )
        else:
            handlers.crisis_flag_clear(**common, reason="Clinician reviewed")
    elif rng.random() < 0.05:
        handlers.patient_mark_deceased(**common, now=clock)
    else:
        handlers.note_add(**common, text="Spoke with patient", restricted=rng.random() < 0.2)
