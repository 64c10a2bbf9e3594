"""Models of the reminders app: the schedule (a read model), the outbox, the templates,
the SMS-safe names, and the number-level block list (reminders/models/numbers.py)."""

from reminders.models.aliases import SmsAlias
from reminders.models.numbers import *  # noqa: F403
from reminders.models.outbox import (
    REPLY_KINDS,
    WAITING,
    MessageKind,
    MessageStatus,
    OutboundMessage,
)
from reminders.models.schedule import Reminder, ReminderKind, ReminderState
from reminders.models.templates import MessageTemplate

__all__ = [
    "REPLY_KINDS",
    "WAITING",
    "MessageKind",
    "MessageStatus",
    "MessageTemplate",
    "OutboundMessage",
    "Reminder",
    "ReminderKind",
    "ReminderState",
    "SmsAlias",
]
