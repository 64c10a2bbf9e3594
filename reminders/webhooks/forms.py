"""Twilio's SMS webhook forms, checked at the door: each field we read must have the form
Twilio documents for it, or the request is refused whole, before anything is recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import QueryDict

from crm.domain.errors import InvalidInput
from crm.domain.events.messaging import INBOUND_BODY, PHONE, PROVIDER_SID
from crm.domain.phones import normalize_phone
from crm.webhooks import FormReader
from reminders.domain.status_reports import CallbackStatus

# Every status Twilio gives a Message. We record queued, sent and the outcomes
# (CallbackStatus); the others say nothing new to us and are acknowledged.
TWILIO_STATUSES = (
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "accepted",
    "scheduled",
    "read",
    "partially_delivered",
    "canceled",
)
_TRACKED = {status.value: status for status in CallbackStatus}
_MESSAGE_SID = re.compile(PROVIDER_SID.pattern)
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_ERROR_CODE = re.compile(r"[0-9]{1,5}")  # Twilio's error codes: 30003, 21610...


@dataclass(frozen=True, slots=True)
class InboundText:
    sid: str  # MessageSid
    from_number: str  # E.164
    body: str


@dataclass(frozen=True, slots=True)
class StatusReport:
    sid: str  # MessageSid
    status: str  # one of TWILIO_STATUSES
    tracked: CallbackStatus | None  # None: a status we acknowledge and do not record
    error_code: str  # "" when none


def read_inbound(form: QueryDict, *, region: str, account_sid: str) -> InboundText:
    """An inbound text as Twilio posts it, or Refused."""
    reader = _Reader(form)
    sid = reader.message_sid(account_sid)
    from_number = reader.phone("From", region=region)
    body = reader.body("Body")
    reader.finish()
    return InboundText(sid=sid, from_number=from_number, body=body)


def read_status(form: QueryDict, *, account_sid: str) -> StatusReport:
    """A delivery status callback as Twilio posts it, or Refused."""
    reader = _Reader(form)
    sid = reader.message_sid(account_sid)
    allowed = ", ".join(TWILIO_STATUSES)
    status = reader.text("MessageStatus", required=True)
    if status and status not in TWILIO_STATUSES:
        reader.refuse("MessageStatus", f"must be one of Twilio's statuses: {allowed}.")
    error_code = reader.matching(
        "ErrorCode", _ERROR_CODE, "a Twilio error code of at most 5 digits, such as 30003"
    )
    reader.finish()
    return StatusReport(sid=sid, status=status, tracked=_TRACKED.get(status), error_code=error_code)


class _Reader(FormReader):
    """Reads fields off the form, collecting what is wrong with each.

    Only the fields we read are checked. The others (To, NumMedia, MediaUrl0, ApiVersion
    and whatever Twilio adds next) are kept nowhere, and Twilio adds parameters without
    notice: refusing them would lose patients' texts.
    """

    def text(self, field: str, *, required: bool = False) -> str:
        """The field's one value ("" when absent); Twilio never repeats a field."""
        values = self.form.getlist(field)
        if len(values) > 1:
            self.refuse(field, "must be given once.")
            return ""
        value = values[0] if values else ""
        if required and not value:
            self.refuse(field, "is required.")
        return value

    def matching(
        self, field: str, pattern: re.Pattern[str], shape: str, *, required: bool = False
    ) -> str:
        value = self.text(field, required=required)
        if value and pattern.fullmatch(value) is None:
            self.refuse(field, f"must be {shape}.")
            return ""
        return value

    def message_sid(self, account_sid: str) -> str:
        """MessageSid, its deprecated twin SmsSid, and the account they belong to."""
        sid = self.matching("MessageSid", _MESSAGE_SID, PROVIDER_SID.shape, required=True)
        twin = self.text("SmsSid")
        if sid and twin and twin != sid:
            self.refuse("SmsSid", "must be the same as MessageSid.")
        account = self.matching(
            "AccountSid", _ACCOUNT_SID, "a Twilio account id: AC and 32 hex digits"
        )
        if account and account_sid and account != account_sid:
            self.refuse("AccountSid", "is not this clinic's Twilio account.")
        return sid

    def phone(self, field: str, *, region: str) -> str:
        raw = self.text(field, required=True)
        if not raw:
            return ""
        if not raw.isprintable():  # phonenumbers would skip a trailing NUL or newline
            self.refuse(field, "must be a phone number, without control characters.")
            return ""
        try:
            number = normalize_phone(raw, region=region, field=field)
        except InvalidInput as error:
            self.refuse(field, error.detail)
            return ""
        problem = PHONE.problem(number)
        if problem is not None:
            self.refuse(field, problem)
        return number

    def body(self, field: str) -> str:
        # PostgreSQL cannot store NUL in JSON text; a handset's "@" can arrive as one
        # (GSM 03.38 codes it 0x00), so it is dropped rather than the patient's text lost.
        body = self.text(field).replace("\x00", "")
        problem = INBOUND_BODY.problem(body)
        if problem is not None:
            self.refuse(field, problem)
        return body
