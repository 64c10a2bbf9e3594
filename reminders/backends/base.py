"""What every SMS backend offers: hand a text over, and say later whether it has one."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sms:
    message_id: uuid.UUID
    to: str  # E.164
    body: str


class SmsError(Exception):
    """The provider did not take the text. `permanent`: sending it again cannot help."""

    def __init__(self, code: str, message: str, *, permanent: bool) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message
        self.permanent = permanent


class SmsOutcomeUnknown(Exception):
    """The request may have reached the provider, but no answer came back (a timeout, a
    dropped connection). Never send such a text again before asking the provider."""


class BaseSmsBackend:
    def send(self, sms: Sms) -> str:
        """Hand `sms` over; return the provider's id for it. Raises SmsError or
        SmsOutcomeUnknown."""
        raise NotImplementedError

    def find_sent(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        """The provider's id of a text with this body handed over to `to` at or after
        `since`, if the provider has one. Raises SmsOutcomeUnknown when it cannot say."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the backend may be used again afterwards."""
