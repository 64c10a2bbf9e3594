"""Handlers for appointments and ordered tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Unpack

from django.conf import settings
from django.utils import timezone

from crm.domain import decisions
from crm.domain import events as ev
from crm.handlers.base import Actor, CommandOptions, CommandResult, command, execute


def horizon() -> dt.timedelta:
    """How far ahead a visit may be booked or a test fall due (APPOINTMENT_HORIZON_DAYS)."""
    return dt.timedelta(days=settings.APPOINTMENT_HORIZON_DAYS)


@command
def appointment_schedule(
    *,
    patient_id: uuid.UUID,
    appointment_type: ev.AppointmentType,
    starts_at: dt.datetime,
    provider: str,
    location: str,
    actor: Actor,
    modality: ev.Modality = ev.Modality.IN_PERSON,
    duration_minutes: int = 30,
    appointment_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.schedule_appointment(
            state,
            appointment_id=appointment_id or uuid.uuid4(),
            appointment_type=appointment_type,
            modality=modality,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            provider=provider,
            location=location,
            now=moment,
            horizon=horizon(),
        ),
        actor=actor,
        **options,
    )


@command
def appointment_reschedule(
    *,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    starts_at: dt.datetime,
    actor: Actor,
    reason: str = "",
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.reschedule_appointment(
            state,
            appointment_id=appointment_id,
            starts_at=starts_at,
            reason=reason,
            now=moment,
            horizon=horizon(),
        ),
        actor=actor,
        **options,
    )


@command
def appointment_confirm(
    *,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    actor: Actor,
    via: ev.Channel = ev.Channel.VOICE,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.confirm_appointment(
            state, appointment_id=appointment_id, via=via, now=moment
        ),
        actor=actor,
        **options,
    )


@command
def appointment_cancel(
    *,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    cancelled_by: ev.CancelledBy,
    actor: Actor,
    reason: str = "",
    **options: Unpack[CommandOptions],
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.cancel_appointment(
            state, appointment_id=appointment_id, cancelled_by=cancelled_by, reason=reason
        ),
        actor=actor,
        **options,
    )


@command
def appointment_complete(
    *,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.complete_appointment(
            state, appointment_id=appointment_id, now=moment
        ),
        actor=actor,
        **options,
    )


@command
def appointment_no_show(
    *,
    patient_id: uuid.UUID,
    appointment_id: uuid.UUID,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.record_no_show(
            state, appointment_id=appointment_id, now=moment
        ),
        actor=actor,
        **options,
    )


@command
def lab_test_order(
    *,
    patient_id: uuid.UUID,
    test_name: str,
    due_by: dt.date,
    actor: Actor,
    test_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.order_test(
            state,
            test_id=test_id or uuid.uuid4(),
            test_name=test_name,
            due_by=due_by,
            ordered_by=actor.name,
            now=moment,
            horizon=horizon(),
        ),
        actor=actor,
        **options,
    )


@command
def lab_test_complete(
    *, patient_id: uuid.UUID, test_id: uuid.UUID, actor: Actor, **options: Unpack[CommandOptions]
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.complete_test(state, test_id=test_id),
        actor=actor,
        **options,
    )
