"""An in-memory backend for tests: texts land in `outbox`, like django.core.mail's."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from reminders.backends.base import BaseSmsBackend, Sms, SmsError


@dataclass(frozen=True, slots=True)
class HandedOver:
    sid: str
    to: str
    body: str
    message_id: uuid.UUID
    at: dt.datetime


outbox: list[HandedOver] = []
# Scripted answers per number, used up in order: an SmsError, or SmsOutcomeUnknown (the
# text is kept, as when the provider took it but the answer was lost).
scripted: dict[str, list[Exception]] = {}


def reset() -> None:
    outbox.clear()
    scripted.clear()


class LocmemBackend(BaseSmsBackend):
    def send(self, sms: Sms) -> str:
        answers = scripted.get(sms.to)
        answer = answers.pop(0) if answers else None
        if isinstance(answer, SmsError):
            raise answer
        sid = "SM" + uuid.uuid4().hex
        outbox.append(HandedOver(sid, sms.to, sms.body, sms.message_id, dt.datetime.now(dt.UTC)))
        if answer is not None:
            raise answer
        return sid

    def find_sent(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        for sent in reversed(outbox):
            if sent.to == to and sent.body == body and sent.at >= since:
                return sent.sid
        return None
