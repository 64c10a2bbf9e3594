"""A call's facts gathered on its locked LiveCall row (callbacks in any order, retried, count
once), and the call logged once through crm's write path when it ends and is attributed."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from crm.desk import feed
from crm.domain import decisions
from crm.domain import events as ev
from crm.domain.errors import DomainError, InvalidInput
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import Actor, execute
from crm.handlers.contacts import decide_wrap_up, reasons_for
from crm.models import LiveCall, PatientProfile
from crm.voice import domain
from crm.voice.forms import VoiceRequest

log = logging.getLogger(__name__)

ACTOR = Actor(name="system:twilio-voice", channel="system")
# A household shares one number; more records than this on one number are not a household
# but a switchboard's, and nobody is guessed among them.
MAX_CANDIDATES = 20


class CallNotFound(Exception):
    """No call with this CallSid came through the clinic's phone system."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a call's incoming webhook decided: where the caller waits."""

    routing: domain.Routing
    call: LiveCall


def call_arrived(request: VoiceRequest, *, now: dt.datetime) -> Answer:
    """A call comes in: the records with its number, the queue it waits in (crisis first),
    and one screen pop for the desk. Twilio's retry of the same webhook pops nothing more."""
    with transaction.atomic():
        call, _ = _locked(request, now=now)
        first = not call.enqueued
        if first:
            _identify(call)
            routing = domain.route(
                crisis=call.crisis_first,
                queue=settings.TWILIO_VOICE_QUEUE,
                crisis_queue=settings.TWILIO_VOICE_CRISIS_QUEUE,
                workflow_sid=settings.TWILIO_VOICE_WORKFLOW_SID,
                crisis_priority=settings.TWILIO_VOICE_CRISIS_PRIORITY,
            )
            call.queue = routing.queue
            call.enqueued = True
            call.queue_position = _position(call)
        else:
            routing = _routing_of(call)
        _take(call, request)
        call.save()
        if first:
            feed.publish(
                feed.SCREEN_POP,
                {
                    "call_sid": call.call_sid,
                    "phone": call.phone,
                    "queue_position": call.queue_position,
                    "crisis": call.crisis_first,
                    "patient_ids": list(call.candidates),
                },
                patient_ids=[uuid.UUID(pid) for pid in call.candidates],
            )
    return Answer(routing, call)


def call_reported(request: VoiceRequest, *, now: dt.datetime) -> LiveCall:
    """A status callback or the queue's action callback: its facts join the call's; once
    they tell how the call ended it is logged (or held for the agent), once."""
    with transaction.atomic():
        call, created = _locked(request, now=now)
        if call.state != LiveCall.State.LIVE:
            _too_late(call, request)  # a retry, or the callback the job stopped waiting for
            return call
        if created:  # its incoming webhook never reached us: who called, from the number
            _identify(call)
        _take(call, request)
        ended = _settle(call, now=now)
        call.save()
        if ended:
            publish_ended(call)
    return call


def call_attribute(
    *, call_sid: str, patient_id: uuid.UUID, agent: Actor, now: dt.datetime
) -> LiveCall:
    """The agent says whose call it was (a shared number, an unknown caller): an ended call
    held for this is logged now; a live one is logged on that patient when it ends."""
    with transaction.atomic():
        call = _existing(call_sid)
        if call.logged_at is not None:
            if call.patient_id == patient_id:
                return call  # said again: it stands
            raise CallAlreadyLogged(call)
        if not PatientProfile.objects.answering().filter(patient_id=patient_id).exists():
            # The body names a patient the clinic does not have: the field is what to fix.
            raise InvalidInput("patient_id", f"is not a patient of the clinic ({patient_id}).")
        call.patient_id = patient_id
        call.attributed_by = agent.name
        logged = call.state == LiveCall.State.HELD
        if logged:
            _log(call, now=now)
        call.save()
        if logged:
            publish_ended(call)
    return call


def call_wrap_up(
    *,
    call_sid: str,
    agent: Actor,
    reason_code: str,
    reason: str,
    resolved_first_contact: bool,
    note: str,
    wrap_up_seconds: int,
    now: dt.datetime,
) -> LiveCall:
    """The agent's wrap-up, on the same call: added to its CallLogged when it is logged,
    kept on the call until then (and applied when it is)."""
    wrap_up = {
        "agent": agent.name,
        "agent_id": agent.user_id,
        "role": agent.role,
        "reason_code": reason_code,
        "reason": reason,
        "resolved_first_contact": resolved_first_contact,
        "note": note,
        "wrap_up_seconds": wrap_up_seconds,
    }
    # Checked now, whatever comes later: a reason the clinic's list does not have is
    # refused to the agent who gave it, not at the call's end.
    decisions.contact_reason(reason_code, reason.strip(), reasons_for(reason_code))
    with transaction.atomic():
        call = _existing(call_sid)
        answered = call.disposition in ("", ev.CallDisposition.CONNECTED.value)
        if resolved_first_contact and not answered:
            raise InvalidInput(
                "resolved_first_contact", "can only be true for a call that connected."
            )
        call.wrap_up = wrap_up
        if call.logged_at is not None:
            _wrap_up(call, strict=True)
        call.save()
    return call


class CallAlreadyLogged(Exception):
    def __init__(self, call: LiveCall) -> None:
        super().__init__(call.call_sid)
        self.call = call


# --- the row ---------------------------------------------------------------------------


def _locked(request: VoiceRequest, *, now: dt.datetime) -> tuple[LiveCall, bool]:
    """The call's row, created by whichever webhook comes first, locked to the end of the
    transaction: the callbacks of one call take their turns."""
    _, created = LiveCall.objects.get_or_create(
        call_sid=request.call_sid,
        defaults={"started_at": now, "phone": request.phone, "direction": request.direction},
    )
    return LiveCall.objects.select_for_update().get(call_sid=request.call_sid), created


def _existing(call_sid: str) -> LiveCall:
    call = LiveCall.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        raise CallNotFound(call_sid)
    return call


def _identify(call: LiveCall) -> None:
    """Who may be calling: the records with the number (merged-away ones never answer). One
    is the caller; several are a household the agent chooses in; none, an unknown caller."""
    if not call.phone:
        return
    found = list(
        PatientProfile.objects.answering()
        .filter(phone=call.phone)
        .order_by("last_name", "first_name", "patient_id")
        .values_list("patient_id", "crisis_flag")[: MAX_CANDIDATES + 1]
    )
    if len(found) > MAX_CANDIDATES:
        found = []
    call.candidates = [str(patient_id) for patient_id, _ in found]
    call.patient_id = found[0][0] if len(found) == 1 else None
    # Anyone on the number in crisis puts the call first: it may be them.
    call.crisis_first = any(crisis for _, crisis in found)


def _routing_of(call: LiveCall) -> domain.Routing:
    workflow = settings.TWILIO_VOICE_WORKFLOW_SID
    priority = settings.TWILIO_VOICE_CRISIS_PRIORITY if call.crisis_first else 0
    return domain.Routing(
        queue=call.queue,
        crisis_first=call.crisis_first,
        workflow_sid=workflow,
        priority=priority if workflow else 0,
    )


def _position(call: LiveCall) -> int:
    """Where the caller stands in line, as far as the CRM can tell: the calls still live
    that go before it (crisis callers first, then by arrival)."""
    waiting = LiveCall.objects.filter(state=LiveCall.State.LIVE, enqueued=True, queue_result="")
    ahead = Q(crisis_first=True) if not call.crisis_first else Q(pk__in=[])
    ahead |= Q(crisis_first=call.crisis_first, started_at__lt=call.started_at)
    return waiting.exclude(pk=call.pk).filter(ahead).count() + 1


def facts_of(call: LiveCall) -> domain.CallFacts:
    return domain.CallFacts(
        enqueued=call.enqueued,
        status=domain.CallStatus(call.call_status) if call.call_status else None,
        sequence=call.status_sequence,
        duration_seconds=call.call_duration,
        queue_result=domain.QueueResult(call.queue_result) if call.queue_result else None,
        queue_seconds=call.queue_seconds,
    )


def _joined(call: LiveCall, request: VoiceRequest) -> domain.CallFacts:
    """The call's facts with the request's joined (older or repeated ones change nothing)."""
    facts = facts_of(call)
    if request.queue_result is not None:
        facts = facts.with_queue(request.queue_result, request.queue_seconds)
    if (status := _reported_status(request)) is not None:
        facts = facts.with_status(
            status, sequence=request.sequence, duration_seconds=request.duration_seconds
        )
    return facts


def _take(call: LiveCall, request: VoiceRequest) -> None:
    """The request's facts joined to the call's (older or repeated ones change nothing)."""
    facts = _joined(call, request)
    call.call_status = facts.status.value if facts.status else ""
    call.status_sequence = facts.sequence
    call.call_duration = facts.duration_seconds
    call.queue_result = facts.queue_result.value if facts.queue_result else ""
    call.queue_seconds = facts.queue_seconds


def _reported_status(request: VoiceRequest) -> domain.CallStatus | None:
    """The request's CallStatus when it is a status to take. The queue's action callback
    carries the call's status too (completed when the caller hung up) but not its length,
    which the status callback just after it brings: taking it would end the call short."""
    return request.status if request.queue_result is None else None


def _settle(call: LiveCall, *, now: dt.datetime) -> bool:
    """End a live call whose facts tell how it ended: logged when whose it is is known,
    held otherwise. True when it ended now."""
    if call.state != LiveCall.State.LIVE:
        return False
    outcome = domain.outcome(facts_of(call))
    if outcome is None:
        return False
    end(call, outcome, ended_at=now, now=now, actor=ACTOR)
    return True


def end(
    call: LiveCall,
    outcome: domain.Outcome,
    *,
    ended_at: dt.datetime,
    now: dt.datetime,
    actor: Actor,
) -> None:
    """The live call (locked) ended as `outcome` tells: logged by `actor` when whose it is is
    known, held for the agent otherwise (crm.voice.settle ends the calls whose callbacks
    stopped short)."""
    assert call.state == LiveCall.State.LIVE
    call.disposition = outcome.disposition.value
    call.talk_seconds = outcome.talk_seconds
    call.queue_seconds = outcome.queue_seconds
    call.call_duration = outcome.duration_seconds
    call.ended_at = ended_at
    call.state = LiveCall.State.HELD
    if call.patient_id is not None:
        _log(call, now=now, actor=actor)


def _too_late(call: LiveCall, request: VoiceRequest) -> None:
    """A callback for a call that already ended changes nothing: its outcome, logged or
    held, stands (the record is never rewritten, and a second CallLogged would be a second
    call). When it tells another story than the one the call ended with (the settling job
    stopped waiting for it), the log says so for the operator."""
    facts = _joined(call, request)
    told = domain.outcome(facts)
    if told is not None and told.disposition.value != call.disposition:
        log.warning(
            "Call %s ended as %s; a callback after that says %s: ignored, the call stays %s",
            call.call_sid,
            call.disposition,
            told.disposition.value,
            "logged" if call.logged_at else "held",
        )


# --- the record --------------------------------------------------------------------------


def _log(call: LiveCall, *, now: dt.datetime, actor: Actor = ACTOR) -> None:
    """Log the ended call on its patient's stream, once: the CallSid is the command's key, so
    even a second attempt (none should come: the row is locked) replays the first."""
    assert call.patient_id is not None and call.disposition
    key = f"twilio-voice:{call.call_sid}"
    pending = call.wrap_up or {}
    agent = pending.get("agent") or call.attributed_by or ACTOR.name
    queued = call.queue_seconds or 0
    # An answered call lasts, for the clinic, from the agent's hello: the wait before is its
    # queue time, apart (handle time counts no queue). Unanswered, the wait was all of it.
    answered = call.disposition == ev.CallDisposition.CONNECTED.value
    duration = (call.talk_seconds or 0) if answered else (call.call_duration or 0)
    execute(
        patient_id=call.patient_id,
        decide=lambda state: decisions.log_call(
            state,
            call_id=call.call_id,
            direction=ev.CallDirection.INBOUND,
            channel=ev.Channel.VOICE,
            agent=agent,
            started_at=call.started_at,
            duration_seconds=duration,
            hold_seconds=0,  # Twilio does not say when an agent put the caller on hold
            wrap_up_seconds=0,
            disposition=ev.CallDisposition(call.disposition),
            reason="",
            resolved_first_contact=False,
            call_sid=call.call_sid,
            queue_seconds=queued,
            now=max(now, call.started_at),
        ),
        actor=actor,
        occurred_at=call.started_at,
        idempotency_key=key,
        correlation_id=key,
        fingerprint=fingerprint("voice_call_log", {"call_sid": call.call_sid}),
        in_callers_transaction=True,
    )
    call.logged_at = now
    call.state = LiveCall.State.ENDED
    if call.wrap_up:
        _wrap_up(call, strict=False)


def _wrap_up(call: LiveCall, *, strict: bool) -> None:
    """Add the wrap-up kept on the call to its logged call. Given before the call ended, a
    wrap-up the call's end makes wrong (resolved, yet nobody answered) is dropped, logged,
    rather than keep the call from being logged (`strict` raises instead)."""
    assert call.patient_id is not None and call.wrap_up is not None
    pending: dict[str, Any] = call.wrap_up
    wrap_up = decisions.WrapUp(
        agent=str(pending["agent"]),
        reason_code=str(pending.get("reason_code", "")),
        reason=str(pending.get("reason", "")),
        resolved_first_contact=bool(pending.get("resolved_first_contact", False)),
        note=str(pending.get("note", "")),
        wrap_up_seconds=int(pending.get("wrap_up_seconds", 0)),
    )
    patient_id = call.patient_id
    decide = decide_wrap_up(patient_id, call.call_id, wrap_up)

    try:
        with transaction.atomic():
            execute(
                patient_id=patient_id,
                decide_streams=decide,
                # The agent who gave it, as the API knew them, whenever it is recorded.
                actor=Actor(
                    name=wrap_up.agent,
                    channel="api",
                    user_id=pending.get("agent_id"),
                    role=str(pending.get("role", "")),
                ),
                in_callers_transaction=True,
            )
    except DomainError:
        if strict:
            raise
        log.warning("The wrap-up given before call %s ended was dropped", call.call_sid)
        call.wrap_up = None


def publish_ended(call: LiveCall) -> None:
    feed.publish(
        feed.CALL_ENDED,
        {
            "call_sid": call.call_sid,
            "patient_id": str(call.patient_id) if call.patient_id else None,
            "disposition": call.disposition,
            "logged": call.logged_at is not None,
            "held": call.state == LiveCall.State.HELD,
            "talk_seconds": call.talk_seconds or 0,
            "queue_seconds": call.queue_seconds or 0,
        },
        patient_ids=[uuid.UUID(pid) for pid in call.candidates]
        or ([call.patient_id] if call.patient_id else []),
    )
