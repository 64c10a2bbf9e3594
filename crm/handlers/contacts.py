"""Handlers for consent, calls, notes, crisis contacts and satisfaction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Unpack

from django.utils import timezone

from crm import eventstore
from crm.domain import decisions
from crm.domain import events as ev
from crm.domain.state import fold
from crm.handlers.base import (
    Actor,
    CommandOptions,
    CommandResult,
    DecideStreams,
    Stream,
    command,
    execute,
)
from crm.models import offered_reasons


@command
def consent_record(
    *,
    patient_id: uuid.UUID,
    channel: ev.Channel,
    purpose: ev.ConsentPurpose,
    source: ev.ConsentSource,
    actor: Actor,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.record_consent(
            state, channel=channel, purpose=purpose, source=source
        ),
        actor=actor,
        **options,
    )


@command
def consent_revoke(
    *,
    patient_id: uuid.UUID,
    channel: ev.Channel,
    source: ev.ConsentSource,
    actor: Actor,
    purpose: ev.ConsentPurpose | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.revoke_consent(
            state, channel=channel, purpose=purpose, source=source
        ),
        actor=actor,
        **options,
    )


@command
def call_log(
    *,
    patient_id: uuid.UUID,
    direction: ev.CallDirection,
    started_at: dt.datetime,
    duration_seconds: int,
    disposition: ev.CallDisposition,
    actor: Actor,
    channel: ev.Channel = ev.Channel.VOICE,
    reason_code: str = "",
    reason: str = "",
    resolved_first_contact: bool = False,
    hold_seconds: int = 0,
    wrap_up_seconds: int = 0,
    agent: str | None = None,
    call_id: uuid.UUID | None = None,
    call_sid: str = "",
    queue_seconds: int = 0,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    """`reason_code` is one of the clinic's contact reasons (crm.models.ContactReason) or
    "other" with `reason` saying what about; `reason` alone is an "other" reason. The phone
    system (crm.voice) gives its `call_sid` and the `queue_seconds` the caller waited."""
    moment = now or timezone.now()
    options.setdefault("occurred_at", started_at)
    reasons = reasons_for(reason_code)
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.log_call(
            state,
            call_id=call_id or uuid.uuid4(),
            direction=direction,
            channel=channel,
            agent=agent or actor.name,
            started_at=started_at,
            duration_seconds=duration_seconds,
            hold_seconds=hold_seconds,
            wrap_up_seconds=wrap_up_seconds,
            disposition=disposition,
            reason_code=reason_code,
            reason=reason,
            reasons=reasons,
            resolved_first_contact=resolved_first_contact,
            call_sid=call_sid,
            queue_seconds=queue_seconds,
            now=moment,
        ),
        actor=actor,
        **options,
    )


@command
def call_wrap_up(
    *,
    patient_id: uuid.UUID,
    call_id: uuid.UUID,
    actor: Actor,
    reason_code: str = "",
    reason: str = "",
    resolved_first_contact: bool = False,
    note: str = "",
    wrap_up_seconds: int = 0,
    agent: str | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    """The agent's wrap-up of a call logged on the patient's record (CallWrappedUp): its
    reason, whether it was resolved on first contact, a note. It completes that call."""
    wrap_up = decisions.WrapUp(
        agent=agent or actor.name,
        reason_code=reason_code,
        reason=reason,
        resolved_first_contact=resolved_first_contact,
        note=note,
        wrap_up_seconds=wrap_up_seconds,
    )
    decide = decide_wrap_up(patient_id, call_id, wrap_up)
    return execute(patient_id=patient_id, decide_streams=decide, actor=actor, **options)


def reasons_for(reason_code: str) -> dict[str, str]:
    """The clinic's contact reasons a code is checked against: none to read for no code or
    "other"."""
    listed = reason_code.strip() not in ("", ev.OTHER_REASON)
    return offered_reasons() if listed else {}


def decide_wrap_up(
    patient_id: uuid.UUID, call_id: uuid.UUID, wrap_up: decisions.WrapUp
) -> DecideStreams:
    """The decision of `call_wrap_up` (also the voice desk's, for a wrap-up given before its
    call ended): from the call's CallLogged and any earlier wrap-up on the patient's stream."""
    reasons = reasons_for(wrap_up.reason_code)

    def decide(streams: dict[uuid.UUID, Stream]) -> dict[uuid.UUID, list[ev.DomainEvent]]:
        stream = streams[patient_id]
        logged = previous = None
        for recorded in stream.events:
            event = recorded.event
            if isinstance(event, ev.CallLogged) and event.call_id == call_id:
                logged = event
            elif isinstance(event, ev.CallWrappedUp) and event.call_id == call_id:
                previous = event
        return {
            patient_id: decisions.wrap_up_call(
                stream.state, logged=logged, previous=previous, wrap_up=wrap_up, reasons=reasons
            )
        }

    return decide


@command
def note_add(
    *,
    patient_id: uuid.UUID,
    text: str,
    actor: Actor,
    restricted: bool = False,
    note_id: uuid.UUID | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.add_note(
            state,
            note_id=note_id or uuid.uuid4(),
            text=text,
            author=actor.name,
            restricted=restricted,
        ),
        actor=actor,
        **options,
    )


@command
def crisis_contact_record(
    *,
    patient_id: uuid.UUID,
    risk_level: ev.RiskLevel,
    handoff: ev.CrisisHandoff,
    safety_plan: ev.SafetyPlan,
    actor: Actor,
    summary: str = "",
    crisis_id: uuid.UUID | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    # A crisis contact must land where clinicians look: on the surviving record of a merge,
    # which the record's own stream names (read from the store, not from the profile).
    survivor = fold(patient_id, eventstore.read_stream(patient_id)).merged_into
    return execute(
        patient_id=survivor or patient_id,
        decide=lambda state: decisions.record_crisis_contact(
            state,
            crisis_id=crisis_id or uuid.uuid4(),
            risk_level=risk_level,
            handoff=handoff,
            safety_plan=safety_plan,
            agent=actor.name,
            summary=summary,
        ),
        actor=actor,
        **options,
    )


@command
def crisis_flag_clear(
    *, patient_id: uuid.UUID, reason: str, actor: Actor, **options: Unpack[CommandOptions]
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.clear_crisis_flag(
            state, cleared_by=actor.name, reason=reason
        ),
        actor=actor,
        **options,
    )


@command
def satisfaction_record(
    *,
    patient_id: uuid.UUID,
    score: int,
    channel: ev.Channel,
    actor: Actor,
    appointment_id: uuid.UUID | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.record_satisfaction(
            state, score=score, channel=channel, appointment_id=appointment_id
        ),
        actor=actor,
        **options,
    )
