"""Events of two-way texting: delivery status reports and number-level opt-out / opt-in.

The number-level events live on a stream of their own per phone number (see
`reminders.numbers.number_stream_id`): a STOP must hold for the number whoever it belongs
to, today or later, and a number we do not know must never create a patient.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from crm.domain.events.base import DomainEvent, registered

__all__ = [
    "SmsNumberOptedIn",
    "SmsNumberOptedOut",
    "SmsStatus",
    "SmsStatusReported",
]


class SmsStatus(enum.StrEnum):
    """Twilio's progress states before the end of the road (delivered or failed)."""

    QUEUED = "queued"
    SENT = "sent"


@registered("SmsStatusReported")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsStatusReported(DomainEvent):
    """The provider reported progress on a text we handed over (a status callback)."""

    message_id: uuid.UUID
    status: SmsStatus
    provider_message_id: str = ""


@registered("SmsNumberOptedOut")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsNumberOptedOut(DomainEvent):
    """The number texted an opt-out keyword: no text of any kind until it opts back in."""

    phone: str
    keyword: str
    provider_message_id: str = ""


@registered("SmsNumberOptedIn")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsNumberOptedIn(DomainEvent):
    """The number texted START, YES or UNSTOP: its opt-out and any hold are lifted."""

    phone: str
    keyword: str
    provider_message_id: str = ""
