"""Commands for inbound texts: record what a text said and do what it asks.

Every text from a number we know becomes an `SmsReceived` (with its intent) on each
patient who has that number; a household shares a number, so a STOP silences it for all
of them. A number we don't know never creates a patient: what it sent is recorded on the
number's own stream (`reminders.numbers.number_stream_id`), where a STOP still holds if
the number later belongs to someone.

Each command runs in its own durable transaction with an idempotency key made of the
provider's MessageSid and the stream, bound to the text itself (`text_fingerprint`), so
Twilio retrying a webhook (or a crash half-way through a household) appends nothing twice
and replies once: the reply is queued in the transaction of the number-level command
that decided it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from crm import eventstore
from crm.domain import decisions
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, DomainError, UnknownEventType
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, consent_key, fold
from crm.eventstore import ConcurrencyConflict, IdempotencyKeyReused, NewEvent
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import CONFLICT_RETRIES, Actor
from crm.models import PatientProfile
from crm.projections.profile import save_profile
from reminders import numbers
from reminders.inbound import Reading, read_message

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
    """Record an inbound text on every stream it belongs to and act on what it asks."""
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
    patients = _patients_with(phone)
    satisfaction = _satisfaction_target(phone, patients, now)
    reading = read_message(sms.body, satisfaction_expected=satisfaction is not None)

    if reading.intent is ev.SmsIntent.CONFIRM:
        target = _confirm_target(phone, patients, now)
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


@dataclass(frozen=True, slots=True)
class _Patient:
    patient_id: uuid.UUID
    language: str
    deceased: bool


def _patients_with(phone: str) -> list[_Patient]:
    rows = numbers.patients_with([phone]).values_list("patient_id", "language", "deceased")
    return [_Patient(pid, language, deceased) for pid, language, deceased in rows]


# --- number level: opt-out, opt-in, replies, unknown numbers ---------------------------------


def _number_command(sms: InboundSms, reading: Reading, patients: Sequence[_Patient]) -> str:
    """Record the number-level fact (if any) and queue the one reply, in one transaction."""
    phone = sms.from_number
    stream_id = numbers.number_stream_id(phone)
    replied = ""

    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        nonlocal replied
        replied = ""  # decided afresh if a conflict makes the command run again
        new: list[ev.DomainEvent] = []
        if not patients:  # nobody has this number: the number's stream keeps the text
            new.append(_received(sms, reading.intent))
        status = numbers.number_status(phone)
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
            if status.opted_out or status.holds or _lacks_reminder_consent(patients):
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
            from reminders.outbox import enqueue_reply

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


def _language(patients: Sequence[_Patient]) -> str:
    languages = {p.language.split("-")[0] for p in patients}
    return languages.pop() if len(languages) == 1 else "en"


def _lacks_reminder_consent(patients: Sequence[_Patient]) -> bool:
    """Does a living patient with the number lack SMS consent for reminders right now?"""
    key = consent_key(ev.Channel.SMS, ev.ConsentPurpose.APPOINTMENT_REMINDERS)
    living = [p.patient_id for p in patients if not p.deceased]
    consents = PatientProfile.objects.filter(patient_id__in=living).values_list(
        "consents", flat=True
    )
    granted = sum(1 for c in consents if (c.get(key) or {}).get("granted"))
    return granted < len(living)


# --- patient level -----------------------------------------------------------------------------


def _on_patient(sms: InboundSms, reading: Reading, patient: _Patient, now: dt.datetime) -> None:
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


def _record_for_patient(sms: InboundSms, patient_id: uuid.UUID, decide: Decide) -> Result:
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


# --- whom a C or a score is about ------------------------------------------------------------


def _confirm_target(
    phone: str, patients: Sequence[_Patient], now: dt.datetime
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The patient who got the latest reminder to this number, and their next visit."""
    from reminders.models import MessageKind, OutboundMessage

    ids = [p.patient_id for p in patients if not p.deceased]
    if not ids:
        return None
    latest = (
        OutboundMessage.objects.filter(
            to=phone, kind=MessageKind.REMINDER, patient_id__in=ids, handed_over_at__isnull=False
        )
        .order_by("-handed_over_at")
        .values_list("patient_id", flat=True)
        .first()
    )
    if latest is None:
        return None
    state = fold(latest, eventstore.read_stream(latest))
    upcoming = [a for a in state.open_appointments() if a.starts_at > now]
    return (latest, upcoming[0].appointment_id) if upcoming else None


def _satisfaction_target(
    phone: str, patients: Sequence[_Patient], now: dt.datetime
) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """The patient (and visit) of a satisfaction text to this number in the reply window."""
    from reminders.models import MessageKind, OutboundMessage, Reminder

    ids = [p.patient_id for p in patients]
    if not ids:
        return None
    window = dt.timedelta(hours=settings.SATISFACTION_REPLY_WINDOW_HOURS)
    latest = (
        OutboundMessage.objects.filter(
            to=phone,
            kind=MessageKind.SATISFACTION,
            patient_id__in=ids,
            handed_over_at__gte=now - window,
            handed_over_at__lte=now,
        )
        .order_by("-handed_over_at")
        .values_list("patient_id", "reminder_id")
        .first()
    )
    if latest is None:
        return None
    patient_id, reminder_id = latest
    assert patient_id is not None  # filtered on patient_id__in
    appointment_id = (
        Reminder.objects.filter(reminder_id=reminder_id)
        .values_list("appointment_id", flat=True)
        .first()
        if reminder_id is not None
        else None
    )
    return patient_id, appointment_id


# --- appending to a stream -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    stream_id: uuid.UUID
    events: list[RecordedEvent]
    duplicate: bool


def record(
    *,
    stream_id: uuid.UUID,
    decide: Decide,
    occurred_at: dt.datetime,
    idempotency_key: str,
    fingerprint: str,
    in_transaction: Callable[[], None] | None = None,
    actor: Actor = ACTOR,
) -> Result:
    """crm's command path (as crm.handlers.base.execute: lock and read, idempotency, fold,
    decide, append, profile inline) for a decision that needs the stream's events as well
    as the folded state, and for a number's stream. `fingerprint` names the command the
    key is bound to (crm.eventstore.fingerprints). `in_transaction` runs after the
    append, in the same transaction, and only when the command is not a retry."""
    metadata: dict[str, Any] = {
        "actor": actor.name,
        "actor_id": actor.user_id,
        "role": actor.role,
        "channel": actor.channel,
        "correlation_id": idempotency_key,
        "causation_id": None,
    }
    for attempt in range(1, CONFLICT_RETRIES + 1):
        try:
            return _record_once(
                stream_id,
                decide,
                occurred_at,
                (idempotency_key, fingerprint),
                in_transaction,
                metadata,
            )
        except ConcurrencyConflict:
            if attempt == CONFLICT_RETRIES:
                raise
    raise AssertionError("unreachable")


def _record_once(
    stream_id: uuid.UUID,
    decide: Decide,
    occurred_at: dt.datetime,
    command: tuple[str, str],
    in_transaction: Callable[[], None] | None,
    metadata: dict[str, Any],
) -> Result:
    idempotency_key, fingerprint = command
    with transaction.atomic(durable=True):
        locked = eventstore.lock_and_read(
            stream_id, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
        if locked.prior is not None:
            return Result(stream_id, locked.prior.events, duplicate=True)
        state = fold(stream_id, locked.events)
        new_events = decide(locked.events, state)
        appended = eventstore.append(
            stream_id,
            [NewEvent(event, occurred_at) for event in new_events],
            expected_version=state.version,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            metadata=metadata,
            version_read_in_transaction=True,
            # As crm's handlers do; a no-op on a number's stream (no registered patient).
            inline=lambda pending: save_profile(state.apply_all(pending)),
        )
        if in_transaction is not None:
            in_transaction()
        return Result(stream_id, appended.events, duplicate=False)
