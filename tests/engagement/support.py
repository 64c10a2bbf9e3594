"""Given-when-then helpers for the rules: fold a history, evaluate it at a moment."""

from __future__ import annotations

import datetime as dt
import uuid

from crm.domain import events as ev
from engagement.domain.config import RuleConfig
from engagement.domain.evaluate import evaluate
from engagement.domain.state import fold_engagement
from engagement.domain.suggestions import Evaluation, Kind, Status, Suggestion
from tests.domain.support import (
    HISTORY_STARTS,
    NOW,
    PATIENT_ID,
    At,
    at,
    patient_registered,
    recorded,
)

__all__ = ["HISTORY_STARTS", "NOW", "PATIENT_ID", "at", "days", "hours"]

CONFIG = RuleConfig(clinic_timezone="America/New_York")


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def evaluation(
    *events: ev.DomainEvent | At,
    now: dt.datetime = NOW,
    config: RuleConfig = CONFIG,
    registered: bool = True,
) -> Evaluation:
    """Evaluate Rowan's history (registered 400 days ago, unless told not to add it)."""
    history = [at(HISTORY_STARTS, patient_registered()), *events] if registered else list(events)
    return evaluate(fold_engagement(PATIENT_ID, recorded(*history)), now, config)


def of_kind(result: Evaluation, kind: Kind) -> list[Suggestion]:
    return [s for s in result.suggestions if s.kind is kind]


def one(result: Evaluation, kind: Kind) -> Suggestion:
    found = of_kind(result, kind)
    assert len(found) == 1, [s.suggestion_id for s in result.suggestions]
    return found[0]


def open_kinds(result: Evaluation) -> set[Kind]:
    return {s.kind for s in result.suggestions if s.status in (Status.OPEN, Status.CLAIMED)}


def call(
    started_at: dt.datetime,
    disposition: ev.CallDisposition,
    *,
    direction: ev.CallDirection = ev.CallDirection.INBOUND,
    channel: ev.Channel = ev.Channel.VOICE,
) -> At:
    return at(
        started_at,
        ev.CallLogged(
            call_id=uuid.uuid4(),
            direction=direction,
            channel=channel,
            agent="agent.one",
            started_at=started_at,
            duration_seconds=0 if disposition is not ev.CallDisposition.CONNECTED else 300,
            disposition=disposition,
        ),
    )


def booked(
    when: dt.datetime,
    starts_at: dt.datetime,
    appointment_type: ev.AppointmentType = ev.AppointmentType.THERAPY,
    appointment_id: uuid.UUID | None = None,
) -> At:
    return at(
        when,
        ev.AppointmentScheduled(
            appointment_id=appointment_id or uuid.uuid4(),
            appointment_type=appointment_type,
            modality=ev.Modality.IN_PERSON,
            starts_at=starts_at,
            duration_minutes=50,
            provider="Dr. Okafor",
            location="Main St clinic",
        ),
    )


def appointment_of(item: At) -> uuid.UUID:
    appointment_id = item.event.appointment_id  # type: ignore[attr-defined]
    assert isinstance(appointment_id, uuid.UUID)
    return appointment_id


def crisis(when: dt.datetime, crisis_id: uuid.UUID | None = None) -> At:
    return at(
        when,
        ev.CrisisContactRecorded(
            crisis_id=crisis_id or uuid.uuid4(),
            risk_level=ev.RiskLevel.HIGH,
            handoff=ev.CrisisHandoff.CLINICIAN,
            safety_plan=ev.SafetyPlan.CREATED,
            agent="crisis.agent",
            summary="Caller disclosed a private detail that must never reach the queue.",
        ),
    )


def text(when: dt.datetime, intent: ev.SmsIntent, body: str = "...") -> At:
    return at(
        when,
        ev.SmsReceived(
            message_id=uuid.uuid4(), from_number="+16175550134", body=body, intent=intent
        ),
    )


def ledger(when: dt.datetime, event: ev.DomainEvent) -> At:
    return at(when, event)
