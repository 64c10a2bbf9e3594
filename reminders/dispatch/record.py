"""Recording what became of claimed texts: outbox rows and SmsSent / SmsFailed events in
one transaction, touched only while a row still carries the claim's token."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction

from crm.domain import events as ev
from reminders.dispatch.outbox import save_fields
from reminders.dispatch.outcomes import Outcome, Report
from reminders.domain.numbers import CARRIER_OPT_OUT, carrier_opt_out, stream_of
from reminders.handlers.recording import Entry, record
from reminders.models import MessageKind, MessageStatus, OutboundMessage, Reminder
from reminders.projections.numbers import patients_with


def record_outcomes(outcomes: Sequence[Outcome], now: dt.datetime) -> Report:
    """Record a batch of outcomes in one transaction: outbox rows and events together.

    A row is only touched while it still carries the claim's token: a worker whose lease
    ran out records nothing, and the reconciler (who asks the provider) decides instead.
    """
    report = Report()
    if not outcomes:
        return report
    with transaction.atomic():
        rows = {
            row.message_id: row
            for row in OutboundMessage.objects.select_for_update().filter(
                message_id__in=[o.claim.message_id for o in outcomes],
                status=MessageStatus.SENDING,
            )
        }
        # Which visit each reminder is about, named on its SmsSent for the metrics.
        visits = dict(
            Reminder.objects.filter(
                reminder_id__in=[r.reminder_id for r in rows.values() if r.reminder_id]
            ).values_list("reminder_id", "appointment_id")
        )
        entries: list[Entry] = []
        touched: list[OutboundMessage] = []
        for outcome in outcomes:
            row = rows.get(outcome.claim.message_id)
            if row is None or row.attempt_token != outcome.claim.token:
                continue
            touched.append(row)
            visit = visits.get(row.reminder_id) if row.reminder_id else None
            entries.extend(_settle(row, outcome, now, report, visit))
        save_fields(
            touched,
            [
                "status",
                "reason",
                "provider_message_id",
                "handed_over_at",
                "lease_until",
                "attempt_token",
                "next_attempt_at",
                "error_code",
                "error_message",
            ],
        )
        entries.extend(_carrier_opt_outs(touched, now))
        record(entries)
    return report


def _settle(
    row: OutboundMessage,
    outcome: Outcome,
    now: dt.datetime,
    report: Report,
    appointment_id: uuid.UUID | None = None,
) -> list[Entry]:
    stream = stream_of(row.patient_id, row.to)
    if outcome.sid:
        at = outcome.at or now
        row.status, row.provider_message_id, row.handed_over_at = (
            MessageStatus.SENT,
            outcome.sid,
            at,
        )
        row.lease_until, row.attempt_token, row.reason = None, None, ""
        report.sent += 1
        sent = ev.SmsSent(
            message_id=row.message_id,
            to=row.to,
            body=row.body,
            purpose=_purpose(row),
            provider_message_id=outcome.sid,
            reminder_id=row.reminder_id,
            appointment_id=appointment_id,
        )
        return [Entry(stream, (sent,), f"reminders:sms-sent:{row.message_id}", at)]
    if outcome.unknown:
        # Leave it "sending" with its lease over: the next pass asks the provider first.
        row.lease_until = now
        row.reason = (
            f"No answer from the SMS provider ({outcome.unknown}); asking it before any resend."
        )
        report.unknown += 1
        return []
    if outcome.requeue:
        row.status, row.next_attempt_at = MessageStatus.QUEUED, now
        row.lease_until, row.attempt_token, row.reason = None, None, ""
        report.requeued += 1
        return []
    error = outcome.error
    assert error is not None
    row.error_code, row.error_message = error.code, error.message
    row.lease_until, row.attempt_token = None, None
    if not error.permanent and row.attempts < settings.REMINDERS_RETRY_ATTEMPTS:
        delay = dt.timedelta(
            seconds=settings.REMINDERS_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1)
        )
        row.status, row.next_attempt_at = MessageStatus.RETRYING, now + delay
        row.reason = (
            f"The SMS provider did not take it ({error.message}, {error.code}); "
            f"try {row.attempts + 1} of {settings.REMINDERS_RETRY_ATTEMPTS} at "
            f"{row.next_attempt_at:%Y-%m-%d %H:%M} UTC."
        )
        report.retrying += 1
        return []
    row.status = MessageStatus.FAILED
    message = (
        error.message
        if error.permanent
        else (f"gave up after {row.attempts} attempts: {error.message}")
    )
    row.reason = f"Not sent: {message} ({error.code})."
    report.failed += 1
    failed = ev.SmsFailed(
        message_id=row.message_id,
        error_code=error.code,
        error_message=message,
        permanent=error.permanent,
        reminder_id=row.reminder_id,
    )
    return [Entry(stream, (failed,), f"reminders:sms-failed:{row.message_id}", now)]


def _carrier_opt_outs(rows: Sequence[OutboundMessage], now: dt.datetime) -> list[Entry]:
    """Twilio's 21610: the person unsubscribed at the carrier. Every patient with the
    number gets ConsentRevoked(source=carrier), as if they had texted STOP to us."""
    refused = {row.to: row for row in rows if row.error_code == CARRIER_OPT_OUT}
    if not refused:
        return []
    return [
        Entry(
            patient_id,
            (carrier_opt_out(phone),),
            f"reminders:carrier-opt-out:{refused[phone].message_id}:{patient_id}",
            now,
        )
        for patient_id, phone in patients_with(refused).values_list("patient_id", "phone")
        if phone is not None
    ]


def _purpose(row: OutboundMessage) -> ev.ConsentPurpose:
    if row.kind == MessageKind.SATISFACTION:
        return ev.ConsentPurpose.SURVEYS
    return ev.ConsentPurpose.APPOINTMENT_REMINDERS
