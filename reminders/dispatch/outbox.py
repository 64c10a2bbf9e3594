"""The outbox: texts waiting to be handed over. `enqueue_reply` and `materialize_due` put
rows in; the dispatcher's steps write them back with `save_fields`."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, Q
from django.utils import timezone

from reminders.dispatch.texts import render
from reminders.domain.texts import base_language
from reminders.models import (
    REPLY_KINDS,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Reminder,
    ReminderState,
)

__all__ = ["enqueue_reply", "materialize_due", "message_id_for", "save_fields"]

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
    moment = now or timezone.now()
    message_id = uuid.uuid5(_MESSAGE_NAMESPACE, f"reply:{kind}:{to}:{in_reply_to}")
    OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(
                message_id=message_id,
                patient_id=patient_id,
                to=to,
                kind=kind,
                language=base_language(language),
                body=render(kind, language, context),
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


def save_fields(rows: Sequence[OutboundMessage], fields: Sequence[str]) -> None:
    """Write `fields` of each row with one UPDATE per row, sent together (psycopg
    pipelines executemany). Django's bulk_update builds a CASE per field and row, which
    took 55% of a dispatcher pass (docs/benchmarks-notebook.md, "Reminders (2026-11-23)")."""
    if not rows:
        return
    meta = OutboundMessage._meta
    columns: list[Field[Any, Any]] = [meta.get_field(name) for name in fields]  # type: ignore[misc]
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in columns)
    table, key = quote(meta.db_table), quote(str(pk.column))
    statement = f"UPDATE {table} SET {assignments} WHERE {key} = %s"
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns]
        + [pk.get_db_prep_save(row.pk, connection)]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, params)
