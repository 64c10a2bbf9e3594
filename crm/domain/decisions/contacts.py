"""Decisions on contacts with the patient: consent, calls, notes, crisis contacts and
satisfaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from crm.domain import events as ev
from crm.domain import times
from crm.domain.decisions.guards import appointment_of, require_alive, require_patient
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.domain.state import PatientState

_NO_REASONS: Mapping[str, str] = MappingProxyType({})


def record_consent(
    state: PatientState,
    *,
    channel: ev.Channel,
    purpose: ev.ConsentPurpose,
    source: ev.ConsentSource,
) -> list[ev.DomainEvent]:
    require_patient(state)
    require_alive(state, "record consent")
    if channel in (ev.Channel.SMS, ev.Channel.VOICE) and state.phone is None:
        raise CommandRefused(f"Cannot record {channel.value} consent: no phone number on file.")
    if channel is ev.Channel.EMAIL and not state.email:
        raise CommandRefused("Cannot record email consent: no email address on file.")
    if state.has_consent(channel, purpose):
        return []
    return [ev.ConsentRecorded(channel=channel, purpose=purpose, source=source)]


def revoke_consent(
    state: PatientState,
    *,
    channel: ev.Channel,
    purpose: ev.ConsentPurpose | None,
    source: ev.ConsentSource,
) -> list[ev.DomainEvent]:
    # Always recorded, even when nothing was granted: an opt-out must never be lost.
    require_patient(state)
    phone = state.phone if channel is ev.Channel.SMS else None
    return [ev.ConsentRevoked(channel=channel, purpose=purpose, source=source, phone=phone)]


def log_call(
    state: PatientState,
    *,
    call_id: uuid.UUID,
    direction: ev.CallDirection,
    channel: ev.Channel,
    agent: str,
    started_at: dt.datetime,
    duration_seconds: int,
    hold_seconds: int,
    wrap_up_seconds: int,
    disposition: ev.CallDisposition,
    reason: str,
    resolved_first_contact: bool,
    now: dt.datetime,
    reason_code: str = "",
    reasons: Mapping[str, str] = _NO_REASONS,
    call_sid: str = "",
    queue_seconds: int = 0,
) -> list[ev.DomainEvent]:
    """`reasons` is the clinic's list of contact reasons, code to label, as it stands now
    (needed only for a listed `reason_code`; see `contact_reason`). `call_sid` and
    `queue_seconds` come from the phone system (crm.voice)."""
    require_patient(state)
    times.check_past("started_at", started_at, now)
    reason_code, reason = contact_reason(reason_code, reason.strip(), reasons)
    for name, value in (
        ("duration_seconds", duration_seconds),
        ("hold_seconds", hold_seconds),
        ("wrap_up_seconds", wrap_up_seconds),
        ("queue_seconds", queue_seconds),
    ):
        if value < 0:
            raise InvalidInput(name, "must not be negative.")
        if value > 24 * 3600:
            raise InvalidInput(name, "must be at most 24 hours.")
    if hold_seconds > duration_seconds:
        raise InvalidInput("hold_seconds", "must not exceed duration_seconds.")
    if resolved_first_contact and disposition is not ev.CallDisposition.CONNECTED:
        raise InvalidInput("resolved_first_contact", "can only be true for a call that connected.")
    return [
        ev.CallLogged(
            call_id=call_id,
            direction=direction,
            channel=channel,
            agent=agent,
            started_at=started_at,
            duration_seconds=duration_seconds,
            hold_seconds=hold_seconds,
            wrap_up_seconds=wrap_up_seconds,
            disposition=disposition,
            reason_code=reason_code,
            reason=reason,
            resolved_first_contact=resolved_first_contact,
            call_sid=call_sid,
            queue_seconds=queue_seconds,
        )
    ]


@dataclass(frozen=True, slots=True)
class WrapUp:
    """An agent's wrap-up of a call, as typed: checked by `wrap_up_call`."""

    agent: str
    reason_code: str = ""
    reason: str = ""
    resolved_first_contact: bool = False
    note: str = ""
    wrap_up_seconds: int = 0


def wrap_up_call(
    state: PatientState,
    *,
    logged: ev.CallLogged | None,
    previous: ev.CallWrappedUp | None,
    wrap_up: WrapUp,
    reasons: Mapping[str, str] = _NO_REASONS,
) -> list[ev.DomainEvent]:
    """The wrap-up of a call logged on this stream (`logged`, None when there is none; also
    one logged in the same command), after its last wrap-up (`previous`). The same wrap-up
    again records nothing; a different one corrects the last."""
    require_patient(state)
    if logged is None:
        raise CommandRefused("No such call is logged on this patient's record.")
    code, words = contact_reason(wrap_up.reason_code, wrap_up.reason.strip(), reasons)
    if not 0 <= wrap_up.wrap_up_seconds <= 24 * 3600:
        raise InvalidInput("wrap_up_seconds", "must be from 0 to 24 hours.")
    if wrap_up.resolved_first_contact and logged.disposition is not ev.CallDisposition.CONNECTED:
        raise InvalidInput("resolved_first_contact", "can only be true for a call that connected.")
    event = ev.CallWrappedUp(
        call_id=logged.call_id,
        agent=wrap_up.agent,
        reason_code=code,
        reason=words,
        resolved_first_contact=wrap_up.resolved_first_contact,
        note=wrap_up.note.strip(),
        wrap_up_seconds=wrap_up.wrap_up_seconds,
    )
    return [] if previous == event else [event]


def contact_reason(code: str, words: str, reasons: Mapping[str, str]) -> tuple[str, str]:
    """The (code, words) a call is logged with. A code must be one of the clinic's reasons
    or "other" (which needs words); a listed reason without words keeps its label. Words
    without a code are an "other" reason, as free text logged before the list was."""
    code = code.strip()
    if not code:
        return (ev.OTHER_REASON, words) if words else ("", "")
    if code == ev.OTHER_REASON:
        if not words:
            raise InvalidInput(
                "reason", "must say what the contact was about when the reason is other."
            )
        return code, words
    if code not in reasons:
        allowed = ", ".join([*reasons, ev.OTHER_REASON])
        raise InvalidInput("reason_code", f"must be one of the clinic's reasons: {allowed}.")
    return code, words or reasons[code]


def add_note(
    state: PatientState, *, note_id: uuid.UUID, text: str, author: str, restricted: bool
) -> list[ev.DomainEvent]:
    require_patient(state)
    if not text.strip():
        raise InvalidInput("text", "must not be blank.")
    return [ev.NoteAdded(note_id=note_id, text=text.strip(), author=author, restricted=restricted)]


def record_crisis_contact(
    state: PatientState,
    *,
    crisis_id: uuid.UUID,
    risk_level: ev.RiskLevel,
    handoff: ev.CrisisHandoff,
    safety_plan: ev.SafetyPlan,
    agent: str,
    summary: str,
) -> list[ev.DomainEvent]:
    # Deliberately no deceased or merged guard beyond existence: a crisis contact is
    # always recorded, whatever else the record says.
    if not state.registered:
        raise PatientNotFound(state.patient_id)
    return [
        ev.CrisisContactRecorded(
            crisis_id=crisis_id,
            risk_level=risk_level,
            handoff=handoff,
            safety_plan=safety_plan,
            agent=agent,
            summary=summary.strip(),
        )
    ]


def clear_crisis_flag(state: PatientState, *, cleared_by: str, reason: str) -> list[ev.DomainEvent]:
    require_patient(state)
    if not state.crisis_open:
        raise CommandRefused("The patient has no open crisis flag to clear.")
    if not reason.strip():
        raise InvalidInput("reason", "must say why the crisis flag is cleared.")
    return [ev.CrisisFlagCleared(cleared_by=cleared_by, reason=reason.strip())]


def record_satisfaction(
    state: PatientState,
    *,
    score: int,
    channel: ev.Channel,
    appointment_id: uuid.UUID | None,
) -> list[ev.DomainEvent]:
    require_patient(state)
    if not 1 <= score <= 5:
        raise InvalidInput("score", "must be from 1 to 5.")
    if appointment_id is not None:
        appointment_of(state, appointment_id)
    return [ev.SatisfactionRecorded(score=score, channel=channel, appointment_id=appointment_id)]
