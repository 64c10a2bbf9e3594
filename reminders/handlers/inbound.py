"""Inbound texts: an `SmsReceived` on every patient with the number (a household shares it) or
on the number's own stream if no patient has it, and what the text asks done."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crm.domain import decisions
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, DomainError, UnknownEventType
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, consent_key
from crm.eventstore import IdempotencyKeyReused
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import Actor, CommandResult, Stream, execute
from reminders.domain.keywords import Reading, read_message
from reminders.domain.numbers import number_stream_id
from reminders.handlers import senders
from reminders.projections.numbers import number_status

log = logging.getLogger(__name__)

ACTOR = Actor(name="system:sms-inbound", channel="sms")
_INBOUND_NAMESPACE = uuid.UUID("b8f7d0a4-0f55-4c41-9d1e-2f2f3f8c6e21")

# decide(stream events, folded state) -> events to append
Decide = Callable[[list[RecordedEvent], PatientState], list[ev.DomainEvent]]


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A text as the provider gave it to us (already checked to come from the provider)."""

    provider_message_id: str  # Twilio's MessageSid
    from_number: str  # E.164
    body: str
    received_at: dt.datetime


@dataclass(slots=True)
class InboundOutcome:
    intent: ev.SmsIntent
    patient_ids: list[uuid.UUID] = field(default_factory=list)
    replied: str = ""  # the reply kind queued, if any
    confirmed_appointment: uuid.UUID | None = None


def inbound_message_id(provider_message_id: str) -> uuid.UUID:
    """Our id for an inbound text: the same on every stream it lands on, and on retries.
    What is derived from it for one patient (a suggestion) names the patient too."""
    return uuid.uuid5(_INBOUND_NAMESPACE, f"sms-in:{provider_message_id}")


def text_fingerprint(sms: InboundSms) -> str:
    """What the text's idempotency keys are bound to: the text as the provider sent it
    (not when we got it: a retried webhook arrives later)."""
    return fingerprint(
        "sms_receive",
        {"message_sid": sms.provider_message_id, "from": sms.from_number, "body": sms.body},
    )


# --- the command -----------------------------------------------------------------------------


def sms_receive(*, sms: InboundSms, now: dt.datetime) -> InboundOutcome:
    """Record an inbound text on every stream it belongs to and act on what it asks.

    Each command goes through crm's `execute`, keyed by the provider's MessageSid and the
    stream and bound to the text (`text_fingerprint`): a retried webhook appends nothing
    twice and replies once, the reply queued by the number-level command's transaction.
    """
    try:
        return _receive(sms, now)
    except IdempotencyKeyReused:
        # The provider never sends two texts under one MessageSid: this is not the text
        # recorded under it (another sender or body). Nothing more is recorded, and the
        # webhook still answers 200, or the provider would send it again and again.
        log.warning(
            "Inbound text %s differs from the one on record: ignored", sms.provider_message_id
        )
        return InboundOutcome(intent=ev.SmsIntent.UNREAD)


def _receive(sms: InboundSms, now: dt.datetime) -> InboundOutcome:
    phone = sms.from_number
    patients = senders.patients_with(phone)
    satisfaction = senders.satisfaction_target(phone, patients, now)
    reading = read_message(sms.body, satisfaction_expected=satisfaction is not None)

    if reading.intent is ev.SmsIntent.CONFIRM:
        target = senders.confirm_target(phone, patients, now)
        if target is None:  # no reminder we can tie it to: a person calls back
            reading = Reading(ev.SmsIntent.FREE_TEXT)
        else:
            return _confirm(sms, target, now)
    if reading.intent is ev.SmsIntent.SATISFACTION and satisfaction is not None:
        return _satisfaction(sms, reading, satisfaction)

    outcome = InboundOutcome(intent=reading.intent, patient_ids=[p.patient_id for p in patients])
    outcome.replied = _number_command(sms, reading, patients)
    unreadable: UnknownEventType | None = None
    for patient in patients:
        try:
            _on_patient(sms, reading, patient, now)
        except UnknownEventType as exc:
            # One record holding an event a newer release wrote must not keep the text (a
            # STOP) from the rest of the household. Its own copy waits for a retry of the
            # webhook, which records only what is missing (each stream has its own key).
            log.error(
                "Inbound text %s not recorded for patient %s: %s",
                sms.provider_message_id,
                patient.patient_id,
                exc.message,
            )
            unreadable = unreadable or exc
    if unreadable is not None:
        raise unreadable
    return outcome


# --- number level: opt-out, opt-in, replies, unknown numbers ---------------------------------


def _number_command(sms: InboundSms, reading: Reading, patients: Sequence[senders.Patient]) -> str:
    """Record the number-level fact (if any) and queue the one reply, in one transaction."""
    phone = sms.from_number
    stream_id = number_stream_id(phone)
    replied = ""

    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        nonlocal replied
        replied = ""  # decided afresh if a conflict makes the command run again
        new: list[ev.DomainEvent] = []
        if not patients:  # nobody has this number: the number's stream keeps the text
            new.append(_received(sms, reading.intent))
        status = number_status(phone)
        if reading.intent is ev.SmsIntent.OPT_OUT:
            if not status.opted_out:  # a second STOP gets no second confirmation
                new.append(
                    ev.SmsNumberOptedOut(
                        phone=phone,
                        keyword=reading.keyword,
                        provider_message_id=sms.provider_message_id,
                    )
                )
                replied = "opt_out_confirmation"
        elif reading.intent is ev.SmsIntent.OPT_IN:
            if status.opted_out or status.holds or senders.lacks_reminder_consent(patients):
                new.append(
                    ev.SmsNumberOptedIn(
                        phone=phone,
                        keyword=reading.keyword,
                        provider_message_id=sms.provider_message_id,
                    )
                )
                replied = "opt_in_confirmation"
        elif reading.intent is ev.SmsIntent.HELP:
            replied = "help"  # even to a number that opted out
        return new

    def reply() -> None:
        if replied:
            from reminders.dispatch.outbox import enqueue_reply

            only = patients[0] if len(patients) == 1 else None
            enqueue_reply(
                to=phone,
                kind=replied,
                language=_language(patients),
                patient_id=only.patient_id if only is not None else None,
                context={},
                in_reply_to=sms.provider_message_id,
                now=sms.received_at,
            )

    result = record(
        stream_id=stream_id,
        decide=decide,
        occurred_at=sms.received_at,
        idempotency_key=f"sms-in:{sms.provider_message_id}:number",
        fingerprint=text_fingerprint(sms),
        in_transaction=reply,
    )
    return "" if result.duplicate else replied


def _language(patients: Sequence[senders.Patient]) -> str:
    languages = {p.language.split("-")[0] for p in patients}
    return languages.pop() if len(languages) == 1 else "en"


# --- patient level -----------------------------------------------------------------------------


def _on_patient(
    sms: InboundSms, reading: Reading, patient: senders.Patient, now: dt.datetime
) -> None:
    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        if not _still_a_patient(state):
            return []
        new: list[ev.DomainEvent] = [_received(sms, reading.intent)]
        if reading.intent is ev.SmsIntent.OPT_OUT and not _sms_all_revoked(state):
            new += decisions.revoke_consent(
                state, channel=ev.Channel.SMS, purpose=None, source=ev.ConsentSource.SMS_KEYWORD
            )
        elif reading.intent is ev.SmsIntent.OPT_IN and not state.deceased:
            new += decisions.record_consent(
                state,
                channel=ev.Channel.SMS,
                purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
                source=ev.ConsentSource.SMS_KEYWORD,
            )
        return new

    _record_for_patient(sms, patient.patient_id, decide)


def _sms_all_revoked(state: PatientState) -> bool:
    """Every SMS purpose already revoked: a repeated STOP adds no second revocation."""
    return all(
        (c := state.consents.get(consent_key(ev.Channel.SMS, purpose))) is not None
        and not c.granted
        for purpose in ev.ConsentPurpose
    )


def _confirm(
    sms: InboundSms, target: tuple[uuid.UUID, uuid.UUID], now: dt.datetime
) -> InboundOutcome:
    patient_id, appointment_id = target

    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        if not _still_a_patient(state):
            return []
        new: list[ev.DomainEvent] = [_received(sms, ev.SmsIntent.CONFIRM)]
        try:
            new += decisions.confirm_appointment(
                state, appointment_id=appointment_id, via=ev.Channel.SMS, now=now
            )
        except CommandRefused:
            # Cancelled or started since we looked: the text is still recorded, and the
            # engagement app sees a CONFIRM that confirmed nothing.
            log.info("C from %s confirmed nothing: appointment %s", sms.from_number, appointment_id)
        return new

    result = _record_for_patient(sms, patient_id, decide)
    confirmed = any(isinstance(r.event, ev.AppointmentConfirmed) for r in result.events)
    return InboundOutcome(
        intent=ev.SmsIntent.CONFIRM,
        patient_ids=[patient_id],
        confirmed_appointment=appointment_id if confirmed else None,
    )


def _satisfaction(
    sms: InboundSms, reading: Reading, target: tuple[uuid.UUID, uuid.UUID | None]
) -> InboundOutcome:
    patient_id, appointment_id = target
    assert reading.score is not None
    score = reading.score

    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        if not _still_a_patient(state):
            return []
        known = appointment_id if appointment_id in state.appointments else None
        return [
            _received(sms, ev.SmsIntent.SATISFACTION),
            *decisions.record_satisfaction(
                state, score=score, channel=ev.Channel.SMS, appointment_id=known
            ),
        ]

    _record_for_patient(sms, patient_id, decide)
    return InboundOutcome(intent=ev.SmsIntent.SATISFACTION, patient_ids=[patient_id])


def _record_for_patient(sms: InboundSms, patient_id: uuid.UUID, decide: Decide) -> CommandResult:
    return record(
        stream_id=patient_id,
        decide=decide,
        occurred_at=sms.received_at,
        idempotency_key=f"sms-in:{sms.provider_message_id}:{patient_id}",
        fingerprint=text_fingerprint(sms),
    )


def _still_a_patient(state: PatientState) -> bool:
    """False when the record was merged away since we looked the number up: its
    survivor has its own number and gets its own texts."""
    if not state.registered:
        raise DomainError(f"No patient with id {state.patient_id}.")
    return state.merged_into is None


def _received(sms: InboundSms, intent: ev.SmsIntent) -> ev.SmsReceived:
    return ev.SmsReceived(
        message_id=inbound_message_id(sms.provider_message_id),
        from_number=sms.from_number,
        body=sms.body.strip(),
        provider_message_id=sms.provider_message_id,
        intent=intent,
    )


# --- through crm's command path -------------------------------------------------------------


def record(
    *,
    stream_id: uuid.UUID,
    decide: Decide,
    occurred_at: dt.datetime,
    idempotency_key: str,
    fingerprint: str,
    in_transaction: Callable[[], None] | None = None,
    actor: Actor = ACTOR,
) -> CommandResult:
    """A text's command on one stream (a patient's or a number's), run by crm's `execute`:
    `decide` sees the stream's events and their fold; `fingerprint` names the command the
    key is bound to; `in_transaction` runs in the command's transaction, not on a retry."""

    def decide_stream(streams: dict[uuid.UUID, Stream]) -> dict[uuid.UUID, list[ev.DomainEvent]]:
        stream = streams[stream_id]
        return {stream_id: decide(stream.events, stream.state)}

    return execute(
        patient_id=stream_id,
        decide_streams=decide_stream,
        actor=actor,
        occurred_at=occurred_at,
        idempotency_key=idempotency_key,
        correlation_id=idempotency_key,
        fingerprint=fingerprint,
        in_transaction=in_transaction,
    )
