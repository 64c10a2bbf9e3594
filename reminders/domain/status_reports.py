"""What a provider's delivery report records: how far a text got by its stream's account,
and the event a report becomes. A status never moves backwards. Plain Python."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent

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
_FINAL = 3
_RANK = {
    "handed_over": 0,
    CallbackStatus.QUEUED: 1,
    CallbackStatus.SENT: 2,
    CallbackStatus.DELIVERED: _FINAL,
    CallbackStatus.UNDELIVERED: _FINAL,
    CallbackStatus.FAILED: _FINAL,
}


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
            rank = _FINAL
        if rank is not None:
            reached = rank if reached is None else max(reached, rank)
    return reached


def is_news(events: Sequence[RecordedEvent], message_id: uuid.UUID, status: CallbackStatus) -> bool:
    """Does `status` take the message further than its stream says it got?"""
    reached = progress(events, message_id)
    return reached is None or (reached < _RANK[status] and reached != _FINAL)


def report_event(
    status: CallbackStatus,
    error_code: str,
    *,
    message_id: uuid.UUID,
    provider_message_id: str,
    reminder_id: uuid.UUID | None,
) -> ev.DomainEvent:
    """queued and sent become SmsStatusReported, delivered SmsDelivered, undelivered and
    failed SmsFailed(permanent=True)."""
    if status in (CallbackStatus.QUEUED, CallbackStatus.SENT):
        return ev.SmsStatusReported(
            message_id=message_id,
            status=ev.SmsStatus(status.value),
            provider_message_id=provider_message_id,
        )
    if status is CallbackStatus.DELIVERED:
        return ev.SmsDelivered(message_id=message_id, provider_message_id=provider_message_id)
    code = error_code or status.value
    return ev.SmsFailed(
        message_id=message_id,
        error_code=code,
        error_message=ERROR_MESSAGES.get(code, f"The carrier reported the text {status.value}."),
        permanent=True,
        reminder_id=reminder_id,
    )
