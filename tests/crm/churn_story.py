"""Patients in and out of care, made through the real handlers, for the churn tests."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.handlers import Actor

ACTOR = Actor(name="frontdesk.churn", channel="admin", role="front_desk")
START = dt.datetime(2025, 9, 1, 14, 0, tzinfo=dt.UTC)


def patient(n: int, *, at: dt.datetime = START, language: str = "en") -> uuid.UUID:
    return handlers.patient_register(
        first_name=f"Churn{n}",
        last_name="Testpatient",
        date_of_birth=dt.date(1980, 1, 1 + n % 27),
        phone=f"+1617555{100 + n % 100:04d}",
        language=language,
        actor=ACTOR,
        now=at,
        occurred_at=at,
    ).patient_id


def visit(
    patient_id: uuid.UUID,
    at: dt.datetime,
    kind: ev.AppointmentType = ev.AppointmentType.THERAPY,
    *,
    booked: dt.timedelta = dt.timedelta(days=7),
    outcome: str = "completed",
) -> uuid.UUID:
    """A visit booked `booked` before `at`, then completed (or a no-show, or left open)."""
    booked_at = at - booked
    appointment = handlers.appointment_schedule(
        patient_id=patient_id,
        appointment_type=kind,
        starts_at=at,
        provider="Dr. Quinn",
        location="Main",
        actor=ACTOR,
        now=booked_at,
        occurred_at=booked_at,
    ).events[0]
    appointment_id: uuid.UUID = appointment.event.appointment_id  # type: ignore[attr-defined]
    done = at + dt.timedelta(hours=1)
    close = {
        "completed": handlers.appointment_complete,
        "no_show": handlers.appointment_no_show,
    }.get(outcome)
    if close is not None:
        close(
            patient_id=patient_id,
            appointment_id=appointment_id,
            actor=ACTOR,
            now=done,
            occurred_at=done,
        )
    return appointment_id


def call(
    patient_id: uuid.UUID,
    at: dt.datetime,
    disposition: ev.CallDisposition = ev.CallDisposition.CONNECTED,
    direction: ev.CallDirection = ev.CallDirection.OUTBOUND,
) -> None:
    handlers.call_log(
        patient_id=patient_id,
        direction=direction,
        started_at=at,
        duration_seconds=120,
        disposition=disposition,
        actor=ACTOR,
        now=at,
    )


def opt_out_of_everything(patient_id: uuid.UUID, at: dt.datetime) -> None:
    for channel in (ev.Channel.VOICE, ev.Channel.SMS):
        handlers.consent_revoke(
            patient_id=patient_id,
            channel=channel,
            source=ev.ConsentSource.VERBAL,
            actor=ACTOR,
            occurred_at=at,
        )


def random_care(seed: int, *, patients: int = 24) -> list[uuid.UUID]:
    """A year and a half of visits, calls, no-shows, deaths, merges and opt-outs."""
    rng = random.Random(seed)
    ids = [patient(n, language=rng.choice(["en", "en", "es"])) for n in range(patients)]
    for index, patient_id in enumerate(ids):
        kind = rng.choice(list(ev.AppointmentType))
        at = START + dt.timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 6))
        for _ in range(rng.randint(1, 6)):
            outcome = rng.choice(["completed", "completed", "completed", "no_show", "open"])
            visit(patient_id, at, kind, outcome=outcome)
            if rng.random() < 0.5:
                call(
                    patient_id,
                    at + dt.timedelta(days=rng.randint(5, 60)),
                    rng.choice(list(ev.CallDisposition)),
                )
            at += dt.timedelta(days=rng.randint(20, 200))
        roll = rng.random()
        if roll < 0.08:
            handlers.patient_mark_deceased(
                patient_id=patient_id, actor=ACTOR, now=at, occurred_at=at
            )
        elif roll < 0.16:
            opt_out_of_everything(patient_id, at)
        elif index % 7 == 6:
            # Refused when the other record is gone already: nothing to merge into.
            with contextlib.suppress(DomainError):
                handlers.patients_merge(
                    surviving_patient_id=ids[index - 1],
                    duplicate_patient_id=patient_id,
                    actor=ACTOR,
                    now=at,
                )
    return ids
