"""The outbox: texts waiting to be handed over, and the ways rows get into it.

`enqueue_reply` (for the inbound webhook) queues a keyword reply in the caller's
transaction; `materialize_due` turns due reminders of the schedule into rows. The
dispatcher (reminders/dispatch.py) is the one reader that sends.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Q

from reminders import messages
from reminders.models import (
    REPLY_KINDS,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Reminder,
    ReminderState,
)

__all__ = ["enqueue_reply", "materialize_due"]

log = logging.getLogger(__name__)

# Reminder outbox ids are uuid5 names of the reminder: one row per reminder, ever.
_MESSAGE_NAMESPACE = uuid.UUID("0c4cbb1e-6a6e-4e5f-8d7a-2b9f0f3e4a10")


def message_id_for(reminder_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_MESSAGE_NAMESPACE, str(reminder_id))


def enqueue_reply(
    *,
    to: str,
    kind: str,
    language: str,
    patient_id: uuid.UUID | None,
    context: Mapping[str, str],
    in_reply_to: str,
    now: dt.datetime | None = None,
) -> uuid.UUID:
    """Queue a reply to a keyword (opt-out or opt-in confirmation, help) to `to`.

    Runs in the caller's transaction: if it rolls back, nothing is queued. The dispatcher
    sends it right after commit (and every pass anyway), exactly once, whatever the
    number's consent or block (one confirmation after STOP is required), and records
    SmsSent on the patient's stream, or on the number's stream when `patient_id` is None.
    A second call with the same `in_reply_to` and kind queues nothing and returns the
    first message's id, so a webhook Twilio retries replies once.
    """
    if kind not in REPLY_KINDS:
        raise ValueError(f"{kind!r} is not a reply kind; use one of {sorted(REPLY_KINDS)}")
    from django.utils import timezone

    moment = now or timezone.now()
    message_id = uuid.uuid5(_MESSAGE_NAMESPACE, f"reply:{kind}:{to}:{in_reply_to}")
    OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                message_id=message_id,
                patient_id=patient_id,
                to=to,
                kind=kind,
                language=messages.base_language(language),
                body=messages.render(kind, language, context),
                in_reply_to=in_reply_to,
                status=MessageStatus.QUEUED,
                due_at=moment,
                next_attempt_at=moment,
                created_at=moment,
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(_send_soon)
    return message_id


def _send_soon() -> None:
    from django_q.tasks import async_task

    try:
        async_task("reminders.tasks.dispatch_due", task_name="reminders: send queued replies")
    except Exception:
        # The reply is committed; the every-minute pass sends it if the broker is away.
        log.warning("could not queue an immediate dispatch; the next pass sends the reply")


def materialize_due(now: dt.datetime, *, chunk: int = 2000) -> int:
    """Give every due, scheduled reminder its outbox row (once). Returns rows added."""
    added = 0
    while True:
        due = list(
            Reminder.objects.filter(state=ReminderState.SCHEDULED, due_at__lte=now)
            .filter(Q(outbound__isnull=True))
            .values_list("reminder_id", "patient_id", "phone", "kind", "language", "due_at")[:chunk]
        )
        rows = [
            OutboundMessage(
                message_id=message_id_for(reminder_id),
                patient_id=patient_id,
                reminder_id=reminder_id,
                to=phone or "",
                kind=MessageKind.SATISFACTION if kind == "satisfaction" else MessageKind.REMINDER,
                language=language,
                status=MessageStatus.QUEUED,
                due_at=due_at,
                next_attempt_at=due_at,
                created_at=now,
            )
            for reminder_id, patient_id, phone, kind, language, due_at in due
        ]
        OutboundMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        added += len(rows)
        if len(due) < chunk:
            return added
