"""Delivery status callbacks: what the provider tells us about a text we handed over.

queued and sent become `SmsStatusReported`, delivered `SmsDelivered`, undelivered and
failed `SmsFailed(permanent=True)`, on the stream the text was recorded on (the patient's,
or the number's for a reply to a number no patient has). A status never moves backwards:
the stream says how far the message got, and a late "sent" after "delivered" appends
nothing. The same callback twice appends nothing either (an idempotency key per
MessageSid and status). Error 21610 (unsubscribed at the carrier) also opts the number out.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from crm.domain import events as ev
from crm.domain.errors import UnknownEventType
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState
from crm.eventstore.fingerprints import fingerprint
from reminders import numbers
from reminders.handlers_inbound import record

log = logging.getLogger(__name__)

# What the most common codes mean, for the person reading the timeline.
ERROR_MESSAGES = {
    "21610": "The person unsubscribed from our texts at their carrier (replied STOP to it).",
    "21211": "The number is not a valid phone number.",
    "21614": "The number cannot receive texts (not a mobile number).",
    "30003": "The phone was unreachable (off or out of coverage).",
    "30004": "The text was blocked by the phone or the carrier.",
    "30005": "The number is unknown to the carrier or no longer in service.",
    "30006": "The number is a landline or its carrier cannot take texts.",
    "30007": "The carrier filtered the text.",
    "30008": "The carrier could not deliver the text (unknown error).",
    "30034": "The text came from an unregistered sending number and was blocked.",
}


class CallbackStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


# How far a message got; delivered / undelivered / failed are the end of the road.
_RANK = {
    "handed_over": 0,
    CallbackStatus.QUEUED: 1,
    CallbackStatus.SENT: 2,
    CallbackStatus.DELIVERED: 3,
    CallbackStatus.UNDELIVERED: 3,
    CallbackStatus.FAILED: 3,
}


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
    from reminders.models import OutboundMessage

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
    stream_id = numbers.stream_of(patient_id, to)

    def decide(events: list[RecordedEvent], state: PatientState) -> list[ev.DomainEvent]:
        reached = progress(events, message_id)
        if reached is not None and (reached >= _RANK[callback.status] or reached == 3):
            return []
        return [_event(callback, message_id, reminder_id)]

    try:
        result = record(
            stream_id=stream_id,
            decide=decide,
            occurred_at=callback.reported_at,
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
        if callback.error_code == numbers.CARRIER_OPT_OUT:
            _carrier_opt_out(callback, to)
        raise
    if callback.error_code == numbers.CARRIER_OPT_OUT:  # its own keys: safe to run again
        _carrier_opt_out(callback, to)
    if result.duplicate or not result.events:
        return StatusOutcome.UNCHANGED
    return StatusOutcome.RECORDED


def progress(events: Sequence[RecordedEvent], message_id: uuid.UUID) -> int | None:
    """How far the message got by the stream's account, or None if it isn't there."""
    reached: int | None = None
    for recorded in events:
        event = recorded.event
        rank: int | None = None
        if isinstance(event, ev.SmsSent) and event.message_id == message_id:
            rank = _RANK["handed_over"]
        elif isinstance(event, ev.SmsStatusReported) and event.message_id == message_id:
            rank = _RANK[CallbackStatus(event.status.value)]
        elif isinstance(event, ev.SmsDelivered | ev.SmsFailed) and event.message_id == message_id:
            rank = 3
        if rank is not None:
            reached = rank if reached is None else max(reached, rank)
    return reached


def _event(
    callback: StatusCallback, message_id: uuid.UUID, reminder_id: uuid.UUID | None
) -> ev.DomainEvent:
    sid = callback.provider_message_id
    if callback.status in (CallbackStatus.QUEUED, CallbackStatus.SENT):
        return ev.SmsStatusReported(
            message_id=message_id,
            status=ev.SmsStatus(callback.status.value),
            provider_message_id=sid,
        )
    if callback.status is CallbackStatus.DELIVERED:
        return ev.SmsDelivered(message_id=message_id, provider_message_id=sid)
    code = callback.error_code or callback.status.value
    return ev.SmsFailed(
        message_id=message_id,
        error_code=code,
        error_message=ERROR_MESSAGES.get(
            code, f"The carrier reported the text {callback.status.value}."
        ),
        permanent=True,
        reminder_id=reminder_id,
    )


def _carrier_opt_out(callback: StatusCallback, phone: str) -> None:
    """21610: every patient with the number revoked SMS consent at the carrier."""
    patient_ids = list(numbers.patients_with([phone]).values_list("patient_id", flat=True))
    revoked = numbers.carrier_opt_out(phone)
    unreadable: UnknownEventType | None = None
    for stream_id in patient_ids or [numbers.number_stream_id(phone)]:
        try:
            record(
                stream_id=stream_id,
                decide=lambda events, state: [revoked],
                occurred_at=callback.reported_at,
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
