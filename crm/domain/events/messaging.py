"""Events of two-way texting: delivery status reports and number-level opt-out / opt-in, with
the bounded types of what the SMS provider tells us (docs/texting.md)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Annotated

from crm.domain.events.base import Bounded, DomainEvent, registered

__all__ = [
    "ErrorCode",
    "InboundBody",
    "Keyword",
    "Phone",
    "ProviderSid",
    "SmsNumberOptedIn",
    "SmsNumberOptedOut",
    "SmsStatus",
    "SmsStatusReported",
]

# What the SMS provider tells us has bounded types, shared with the catalogue's SMS events:
# an event is forever, so a value no read model can hold is refused whichever door it
# comes through.

# Twilio's ids: two letters for the kind (SM, MM, AC...) and 32 hex digits.
PROVIDER_SID = Bounded(
    34,
    r"[A-Z]{2}[0-9a-fA-F]{32}",
    shape="a Twilio id: two capital letters and 32 hex digits",
    example="SM0123456789abcdef0123456789abcdef",
)
ProviderSid = Annotated[str, PROVIDER_SID]
# E.164, as crm.domain.phones writes it: at most 15 digits (the number tables hold 20).
PHONE = Bounded(
    16,
    r"\+[1-9][0-9]{1,14}",
    shape="a phone number in E.164 form such as +16175550134",
    example="+16175550134",
)
Phone = Annotated[str, PHONE]
# A provider's code (Twilio's 30003) or our own word for a failure ("undelivered",
# "connection"); the reminder and outbox tables hold 32 characters.
ERROR_CODE = Bounded(
    32, r"[A-Za-z0-9_]+", shape="an error code such as 30003 or undelivered", example="30003"
)
ErrorCode = Annotated[str, ERROR_CODE]
# Twilio's longest message body.
INBOUND_BODY = Bounded(1600, example="C")
InboundBody = Annotated[str, INBOUND_BODY]
# The opt-out and opt-in keywords of reminders.domain.keywords; the number table holds 16.
KEYWORD = Bounded(16, r"[A-Z]+", shape="an SMS keyword such as STOP", example="STOP")
Keyword = Annotated[str, KEYWORD]


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
    provider_message_id: ProviderSid = ""


@registered("SmsNumberOptedOut")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsNumberOptedOut(DomainEvent):
    """The number texted an opt-out keyword: no text of any kind until it opts back in."""

    phone: Phone
    keyword: Keyword
    provider_message_id: ProviderSid = ""


@registered("SmsNumberOptedIn")
@dataclass(frozen=True, kw_only=True, slots=True)
class SmsNumberOptedIn(DomainEvent):
    """The number texted START, YES or UNSTOP: its opt-out and any hold are lifted."""

    phone: Phone
    keyword: Keyword
    provider_message_id: ProviderSid = ""
