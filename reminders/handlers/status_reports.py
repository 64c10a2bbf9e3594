"""The delivery status command: a provider's report on a text we handed over, recorded on
the text's stream once per MessageSid and status; 21610 also opts the number out."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from crm.domain import events as ev
from crm.domain.errors import UnknownEventType
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import Actor
from reminders.domain.numbers import CARRIER_OPT_OUT, carrier_opt_out, number_stream_id, stream_of
from reminders.domain.status_reports import CallbackStatus, is_news, report_event
from reminders.handlers.inbound import record
from reminders.models import OutboundMessage
from reminders.projections.numbers import patients_with

# Who records what the provider reported about a text (delivered, failed, carrier opt-out).
ACTOR = Actor(name="system:sms-status", channel="sms")

log = logging.getLogger(__name__)


class StatusOutcome(enum.StrEnum):
    RECORDED = "recorded"
    UNCHANGED = "unchanged"  # a repeat, or a status the message is already past
    UNKNOWN_MESSAGE = "unknown_message"


@dataclass(frozen=True, slots=True)
class StatusCallback:
    provider_message_id: str  # MessageSid
    status: CallbackStatus
    error_code: str  # "" when none
    reported_at: dt.datetime


def sms_status_report(*, callback: StatusCallback) -> StatusOutcome:
    """Record a status callback on the stream of the message it is about."""
    message = (
        OutboundMessage.objects.filter(provider_message_id=callback.provider_message_id)
        .values_list("message_id", "patient_id", "to", "reminder_id")
        .first()
    )
    if message is None:
        # Not ours, or not recorded yet. Answer 200 all the same: a non-2xx would only
        # make the provider call again, and the dispatcher reconciles unrecorded texts.
        log.warning(
            "Status %s for unknown message %s: nothing recorded",
            callback.status,
            callback.provider_message_id,
        )
        return StatusOutcome.UNKNOWN_MESSAGE
    message_id, patient_id, to, reminder_id = message
    stream_id = stream_of(patient_id, to)

    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        if not is_news(events, message_id, callback.status):
            return []
        return [
            report_event(
                callback.status,
                callback.error_code,
                message_id=message_id,
                provider_message_id=callback.provider_message_id,
                reminder_id=reminder_id,
            )
        ]

    try:
        result = record(
            stream_id=stream_id,
            decide=decide,
            occurred_at=callback.reported_at,
            actor=ACTOR,
            idempotency_key=f"sms-status:{callback.provider_message_id}:{callback.status.value}",
            # The key names the whole report: the provider's first word on a status stands.
            fingerprint=fingerprint(
                "sms_status_report",
                {"message_sid": callback.provider_message_id, "status": callback.status},
            ),
        )
    except UnknownEventType:
        # The status waits for a retry (the record holds an event a newer release wrote);
        # the carrier's opt-out is the number's, and reaches everyone else on it now.
        if callback.error_code == CARRIER_OPT_OUT:
            _carrier_opt_out(callback, to)
        raise
    if callback.error_code == CARRIER_OPT_OUT:  # its own keys: safe to run again
        _carrier_opt_out(callback, to)
    if result.duplicate or not result.events:
        return StatusOutcome.UNCHANGED
    return StatusOutcome.RECORDED


def _carrier_opt_out(callback: StatusCallback, phone: str) -> None:
    """21610: every patient with the number revoked SMS consent at the carrier."""
    patient_ids = list(patients_with([phone]).values_list("patient_id", flat=True))
    revoked = carrier_opt_out(phone)
    unreadable: UnknownEventType | None = None
    for stream_id in patient_ids or [number_stream_id(phone)]:
        try:
            record(
                stream_id=stream_id,
                decide=lambda events, state: [revoked],
                occurred_at=callback.reported_at,
                actor=ACTOR,
                idempotency_key=f"sms-status:{callback.provider_message_id}:carrier:{stream_id}",
                fingerprint=fingerprint(
                    "sms_carrier_opt_out",
                    {"message_sid": callback.provider_message_id, "phone": phone},
                ),
            )
        except UnknownEventType as exc:  # one unreadable record keeps no one else's
            log.error("Carrier opt-out not recorded on %s: %s", stream_id, exc.message)
            unreadable = unreadable or exc
    if unreadable is not None:
        raise unreadable
