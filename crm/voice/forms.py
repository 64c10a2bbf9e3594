"""Twilio's voice webhook forms, read at the door: each field we use must have the form Twilio
documents for it, or the request is refused whole (400) before anything is recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import QueryDict

from crm.domain.errors import InvalidInput
from crm.domain.events.messaging import PHONE
from crm.domain.phones import normalize_phone
from crm.voice.domain import CallStatus, QueueResult, caller_number
from crm.webhooks import FormReader

_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_QUEUE_SID = re.compile(r"QU[0-9a-fA-F]{32}")
_SECONDS = re.compile(r"[0-9]{1,6}")  # at most 11 days: more is no call of ours
_SEQUENCE = re.compile(r"[0-9]{1,4}")
DIRECTIONS = ("inbound", "outbound-api", "outbound-dial", "trunking-originating")
MAX_ADDRESS = 256  # a phone number, client:name or a SIP address


@dataclass(frozen=True, slots=True)
class VoiceRequest:
    """The parameters of a voice webhook we read: the call, who calls, and what it reports."""

    call_sid: str
    phone: str  # the caller's number in E.164; "" when withheld or not a phone
    direction: str
    status: CallStatus | None
    sequence: int | None  # SequenceNumber (status callbacks)
    duration_seconds: int | None  # CallDuration (once ended)
    queue_result: QueueResult | None  # QueueResult (the queue's action callback)
    queue_seconds: int | None  # QueueTime


def read(form: QueryDict, *, region: str, account_sid: str) -> VoiceRequest:
    """Any voice webhook as Twilio posts it (a call comes in, a status, the queue's action),
    or Refused. Parameters we do not read (To, ApiVersion, CallerCity...) are not kept."""
    reader = _Reader(form)
    call_sid = reader.matching("CallSid", _CALL_SID, "a Twilio call id: CA and 32 hex digits")
    if not call_sid and "CallSid" not in reader.errors:
        reader.refuse("CallSid", "is required.")
    account = reader.matching("AccountSid", _ACCOUNT_SID, "a Twilio account id: AC and 32 hex")
    if account and account_sid and account != account_sid:
        reader.refuse("AccountSid", "is not this clinic's Twilio account.")
    phone = reader.caller("From", region=region)
    direction = reader.choice("Direction", DIRECTIONS) or "inbound"
    status = reader.choice("CallStatus", tuple(CallStatus))
    queue_result = reader.choice("QueueResult", tuple(QueueResult))
    reader.matching("QueueSid", _QUEUE_SID, "a Twilio queue id: QU and 32 hex digits")
    request = VoiceRequest(
        call_sid=call_sid,
        phone=phone,
        direction=direction,
        status=CallStatus(status) if status else None,
        sequence=reader.number("SequenceNumber", _SEQUENCE),
        duration_seconds=reader.number("CallDuration", _SECONDS),
        queue_result=QueueResult(queue_result) if queue_result else None,
        queue_seconds=reader.number("QueueTime", _SECONDS),
    )
    reader.finish()
    return request


class _Reader(FormReader):
    def text(self, field: str, *, limit: int = 64) -> str:
        values = self.form.getlist(field)
        if len(values) > 1:
            self.refuse(field, "must be given once.")
            return ""
        value = values[0] if values else ""
        if len(value) > limit:
            self.refuse(field, f"must be at most {limit} characters.")
            return ""
        if value and not value.isprintable():
            self.refuse(field, "must not hold control characters.")
            return ""
        return value

    def matching(self, field: str, pattern: re.Pattern[str], shape: str) -> str:
        value = self.text(field)
        if value and pattern.fullmatch(value) is None:
            self.refuse(field, f"must be {shape}.")
            return ""
        return value

    def choice(self, field: str, allowed: tuple[str, ...]) -> str:
        value = self.text(field)
        if value and value not in allowed:
            self.refuse(field, f"must be one of Twilio's values: {', '.join(allowed)}.")
            return ""
        return value

    def number(self, field: str, pattern: re.Pattern[str]) -> int | None:
        value = self.matching(field, pattern, "a whole number such as 42")
        return int(value) if value else None

    def caller(self, field: str, *, region: str) -> str:
        """The caller's E.164 number, or "" for a caller without one we can use (withheld,
        a softphone, a SIP address, a number no phone plan has): still a caller, whose call
        is held for the agent to attribute rather than lost."""
        raw = self.text(field, limit=MAX_ADDRESS)
        number = caller_number(raw)
        if number is None:
            return ""
        try:
            e164 = normalize_phone(number, region=region, field=field)
        except InvalidInput:
            return ""
        return e164 if PHONE.problem(e164) is None else ""
