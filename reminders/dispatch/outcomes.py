"""What the dispatcher hands between its steps: a claimed text, what became of it, and the
counts a pass reports."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from reminders.backends import SmsError


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    held: int = 0
    blocked: int = 0
    dropped: int = 0
    forgotten: int = 0
    reconciled: int = 0
    requeued: int = 0
    unknown: int = 0

    def add(self, other: Report) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class Claim:
    message_id: uuid.UUID
    token: uuid.UUID
    to: str
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed text: exactly one of these fields says it."""

    claim: Claim
    sid: str = ""  # handed over (or found at the provider)
    at: dt.datetime | None = None
    error: SmsError | None = None
    unknown: str = ""  # no answer: ask the provider before anything else
    requeue: bool = False  # not handed over: back to the queue
