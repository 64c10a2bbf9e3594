"""Handing claimed texts to the SMS provider: the one place a text leaves the clinic."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

from django.conf import settings
from django.utils import timezone

from reminders.backends import BaseSmsBackend, Sms, SmsError, SmsOutcomeUnknown
from reminders.dispatch.outcomes import Claim, Outcome


def hand_over(
    backend: BaseSmsBackend,
    claims: Sequence[Claim],
    clock: Callable[[], dt.datetime] = timezone.now,
) -> list[Outcome]:
    """Send each claimed text, stopping in time for the lease: a text is never handed
    over after its lease could have expired (a reconciler may own it by then)."""
    margin = 2 * settings.TWILIO_TIMEOUT_SECONDS + 1
    deadline = time.monotonic() + settings.REMINDERS_SEND_LEASE_SECONDS - margin
    outcomes: list[Outcome] = []
    for claim in claims:
        if time.monotonic() > deadline:
            outcomes.append(Outcome(claim, requeue=True))
            continue
        try:
            sid = backend.send(Sms(claim.message_id, claim.to, claim.body))
        except SmsError as error:
            outcomes.append(Outcome(claim, error=error))
        except SmsOutcomeUnknown as error:
            outcomes.append(Outcome(claim, unknown=str(error)))
        else:
            outcomes.append(Outcome(claim, sid=sid, at=clock()))
    return outcomes
