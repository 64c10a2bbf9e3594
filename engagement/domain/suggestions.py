"""What a suggestion is: its kind and priority, the need a rule found, and the suggestion
as the queue shows it (the need, with what agents did about it and what time it is)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from engagement.domain.state import Evidence


class Kind(enum.StrEnum):
    CRISIS_FOLLOW_UP = "crisis_follow_up"
    SMS_STOP_REVIEW = "sms_stop_review"
    CALLBACK = "callback"
    SMS_CALLBACK = "sms_callback"
    NO_SHOW_FOLLOW_UP = "no_show_follow_up"
    RESCHEDULE_REQUEST = "reschedule_request"
    CARING_CONTACT = "caring_contact"
    CONFIRM_APPOINTMENT = "confirm_appointment"
    TRY_OTHER_CHANNEL = "try_other_channel"
    TEST_OVERDUE = "test_overdue"
    VISIT_FOLLOW_UP = "visit_follow_up"
    SMS_CONSENT = "sms_consent"
    ANNUAL_WELLNESS = "annual_wellness"
    RE_ENGAGE = "re_engage"


# 1 is the most urgent. Crisis first, then a patient asking us to stop texting, then
# people who tried to reach us, then visits at risk, then routine outreach.
PRIORITY: dict[Kind, int] = {kind: rank for rank, kind in enumerate(Kind, start=1)}

LABEL: dict[Kind, str] = {
    Kind.CRISIS_FOLLOW_UP: "Crisis follow-up call",
    Kind.SMS_STOP_REVIEW: "Review a request to stop texts",
    Kind.CALLBACK: "Call back a missed call",
    Kind.SMS_CALLBACK: "Call back after a text",
    Kind.NO_SHOW_FOLLOW_UP: "Follow up a missed visit",
    Kind.RESCHEDULE_REQUEST: "Find a new time (asked by text)",
    Kind.CARING_CONTACT: "Caring contact",
    Kind.CONFIRM_APPOINTMENT: "Confirm an appointment",
    Kind.TRY_OTHER_CHANNEL: "Try another way to reach the patient",
    Kind.TEST_OVERDUE: "Overdue test",
    Kind.VISIT_FOLLOW_UP: "Book a follow-up visit",
    Kind.SMS_CONSENT: "Ask for text-message consent",
    Kind.ANNUAL_WELLNESS: "Annual wellness visit due",
    Kind.RE_ENGAGE: "Win back a patient who lapsed from care",
}
# A win-back for someone with a recent crisis or an open crisis flag ranks with the caring
# contacts: a patient in distress who has dropped out of care.
RAISED_RE_ENGAGE = PRIORITY[Kind.CARING_CONTACT]

# Routine outreach waits while a crisis flag is open, until a clinician clears it.
ROUTINE: frozenset[Kind] = frozenset(
    {Kind.ANNUAL_WELLNESS, Kind.VISIT_FOLLOW_UP, Kind.TEST_OVERDUE, Kind.SMS_CONSENT}
)

# Outcomes with a meaning of their own; any other kind takes free text.
CRISIS_OUTCOMES = ("reached", "not_reached")
STOP_REVIEW_OUTCOMES = ("keeps_texts", "opted_out")


class Status(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"
    EXPIRED = "expired"


ACTIVE = frozenset({Status.OPEN, Status.CLAIMED, Status.SNOOZED})


def suggestion_id(kind: Kind, *parts: uuid.UUID | str | int) -> str:
    """Deterministic and URL-safe: letters, digits, '_', '-' and '.' only."""
    return ".".join([kind.value, *(str(part) for part in parts)])


def shared_suggestion_id(kind: Kind, source: uuid.UUID, evidence: Evidence) -> str:
    """The id of a need arising from something several patients can share (a text to a
    household's number, a call): it also names the record the event is on, so each
    patient gets a suggestion of their own, and keeps it when merged into another record.
    Ids are global (the queue's URLs carry them alone): two patients must never meet."""
    return suggestion_id(kind, source, evidence.patient_id)


@dataclass(slots=True)
class Need:
    """What a rule found: a need that arose at `opened_at`, and whether it was met or lapsed.

    Times after `now` are allowed (a window that will close): the lifecycle reads them
    against `now`, and wakes the patient up when one passes.
    """

    suggestion_id: str
    kind: Kind
    opened_at: dt.datetime
    due_at: dt.datetime
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    met_at: dt.datetime | None = None
    met_reason: str = ""
    lapses_at: dt.datetime | None = None
    lapse_reason: str = ""
    # Ids it had before: what agents recorded under them (claims, completions) still counts.
    aliases: tuple[str, ...] = ()
    # Set when the rule raises it above its kind's rank (a win-back after a crisis).
    priority: int | None = None

    def met(self, at: dt.datetime, reason: str) -> None:
        if self.met_at is None or at < self.met_at:
            self.met_at, self.met_reason = at, reason

    def lapses(self, at: dt.datetime, reason: str) -> None:
        if self.lapses_at is None or at < self.lapses_at:
            self.lapses_at, self.lapse_reason = at, reason


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggestion as of `now`: what the queue, the screen pop and the API show."""

    suggestion_id: str
    patient_id: uuid.UUID
    kind: Kind
    priority: int
    status: Status
    opened_at: dt.datetime
    due_at: dt.datetime
    reason: str
    evidence: tuple[Evidence, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)
    closed_at: dt.datetime | None = None
    closed_by: str = ""  # "agent" or "rule" when done; "rule" when expired
    closed_reason: str = ""
    paused_reason: str = ""  # set while routine outreach waits on an open crisis flag
    outcome: str = ""
    assignee: str = ""
    claimed_until: dt.datetime | None = None
    snoozed_until: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every suggestion of one patient as of `now`, and when that answer next changes."""

    patient_id: uuid.UUID
    now: dt.datetime
    suggestions: list[Suggestion]
    next_change_at: dt.datetime | None

    def get(self, suggestion_id: str) -> Suggestion | None:
        return next((s for s in self.suggestions if s.suggestion_id == suggestion_id), None)
