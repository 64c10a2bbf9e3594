"""The dispatcher: hands due texts to the SMS provider, each exactly once (I9); every step and
failure window is walked through in docs/reminders.md."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.projections import runner
from reminders.backends import BaseSmsBackend, get_backend
from reminders.dispatch.claim import claim_batch
from reminders.dispatch.outbox import materialize_due
from reminders.dispatch.outcomes import Report
from reminders.dispatch.reconcile import reconcile_stale
from reminders.dispatch.record import record_outcomes
from reminders.dispatch.send import hand_over

__all__ = ["dispatch_due"]


def dispatch_due(
    *,
    now: dt.datetime | None = None,
    backend: BaseSmsBackend | None = None,
    batch_size: int | None = None,
    catch_up: bool = True,
) -> Report:
    """One pass over everything due. Safe to run on many workers at once."""
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else timezone.now
    sms = backend or get_backend()
    size = batch_size or settings.REMINDERS_BATCH_SIZE
    report = Report()
    try:
        if catch_up:
            projection = runner.registered().get("reminders")
            if projection is not None:
                runner.catch_up(projection)
        report.add(reconcile_stale(sms, clock(), batch_size=size))
        with transaction.atomic():
            materialize_due(clock())
        while True:
            selected, claims, claimed_report = claim_batch(clock(), batch_size=size)
            report.add(claimed_report)
            if not selected:
                break
            if claims:
                outcomes = hand_over(sms, claims, clock)
                report.add(record_outcomes(outcomes, clock()))
    finally:
        sms.close()  # a kept-alive connection would go stale before the next pass
    return report
