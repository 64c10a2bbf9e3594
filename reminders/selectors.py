"""A reminder's state as people see it: the schedule's, unless the dispatcher has more
to say (held by the cap, retrying, sending, handed over but not yet projected)."""

from __future__ import annotations

from django.db.models import Case, CharField, F, Q, When
from django.db.models.expressions import Combinable

from reminders.models import MessageStatus, OutboundMessage, Reminder, ReminderState

# Outbox statuses that say more than a "scheduled" reminder does. A text the dispatcher
# dropped (too late, or held past the visit) stays "dropped" when the visit later closes:
# nothing went out, and not because the visit was cancelled or took place.
_OVERRIDES = (
    MessageStatus.HELD,
    MessageStatus.BLOCKED,
    MessageStatus.RETRYING,
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.DROPPED,
)

STATES = [
    "scheduled",
    "held",
    "retrying",
    "sending",
    "sent",
    "delivered",
    "failed",
    "blocked",
    "dropped",
    "cancelled",
]


def _outbound(reminder: Reminder) -> OutboundMessage | None:
    try:
        return reminder.outbound
    except OutboundMessage.DoesNotExist:
        return None


def current_state(reminder: Reminder) -> tuple[str, str]:
    """(state, reason) of a reminder loaded with select_related("outbound")."""
    outbound = _outbound(reminder)
    if outbound is not None and (
        (reminder.state == ReminderState.SCHEDULED and outbound.status in _OVERRIDES)
        or (reminder.state == ReminderState.CANCELLED and outbound.status == MessageStatus.DROPPED)
    ):
        return str(outbound.status), outbound.reason
    return str(reminder.state), reminder.reason


def state_expression() -> Combinable:
    """The same as `current_state`, for filtering in the database."""
    return Case(
        When(
            Q(state=ReminderState.SCHEDULED) & Q(outbound__status__in=_OVERRIDES),
            then=F("outbound__status"),
        ),
        When(
            Q(state=ReminderState.CANCELLED) & Q(outbound__status=MessageStatus.DROPPED),
            then=F("outbound__status"),
        ),
        default=F("state"),
        output_field=CharField(),
    )


__all__ = ["STATES", "current_state", "state_expression"]
