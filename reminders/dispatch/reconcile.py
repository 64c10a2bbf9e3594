"""Reconciling rows a dead or unanswered worker left "sending": the provider is asked
whether it has the text before anything is sent again (I9)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction

from reminders.backends import BaseSmsBackend, SmsError, SmsOutcomeUnknown
from reminders.dispatch.outbox import save_fields
from reminders.dispatch.outcomes import Claim, Outcome, Report
from reminders.dispatch.record import record_outcomes
from reminders.models import MessageStatus, OutboundMessage

log = logging.getLogger(__name__)

# Provider clocks and ours differ; look this far back past the claim when reconciling.
CLOCK_SKEW = dt.timedelta(minutes=5)


def reconcile_stale(backend: BaseSmsBackend, now: dt.datetime, *, batch_size: int) -> Report:
    """Rows left "sending" past their lease (a worker died, or got no answer): ask the
    provider whether it has the text, BEFORE anything is sent again. Found: record
    SmsSent with the provider's id. Not found: back to the queue, to be checked and sent.
    The provider cannot say: leave the row for the next pass, never guess."""
    report = Report()
    while True:
        with transaction.atomic():
            rows = list(
                OutboundMessage.objects.select_for_update(skip_locked=True)
                .filter(status=MessageStatus.SENDING, lease_until__lt=now)
                .order_by("lease_until")[:batch_size]
            )
            if not rows:
                return report
            lease = dt.timedelta(seconds=settings.REMINDERS_SEND_LEASE_SECONDS)
            for row in rows:
                row.attempt_token = uuid.uuid4()
                row.lease_until = now + lease
            save_fields(rows, ["attempt_token", "lease_until"])
        outcomes: list[Outcome] = []
        for row in rows:
            assert row.attempt_token is not None
            claim = Claim(row.message_id, row.attempt_token, row.to, row.body)
            since = (row.claimed_at or now) - CLOCK_SKEW
            try:
                sid = backend.find_sent(to=row.to, body=row.body, since=since)
            except (SmsOutcomeUnknown, SmsError) as error:
                log.warning("cannot reconcile %s yet: %s", row.message_id, error)
                report.unknown += 1
                continue  # keeps its fresh lease: looked at again once that runs out
            if sid:
                outcomes.append(Outcome(claim, sid=sid, at=row.claimed_at or now))
                report.reconciled += 1
            else:
                outcomes.append(Outcome(claim, requeue=True))
        settled = record_outcomes(outcomes, now)
        report.requeued += settled.requeued
        if len(rows) < batch_size:
            return report
