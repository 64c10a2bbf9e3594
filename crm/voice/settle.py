"""Calls whose callbacks stopped short, ended from what is known by a recurring job: logged
once (or held for the agent), so no caller is left unlogged and without a callback."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from crm.handlers.base import Actor
from crm.models import LiveCall
from crm.voice import domain, handlers

log = logging.getLogger(__name__)

# Who logged a call the job ended: the CallLogged's metadata tells these calls from the rest.
ACTOR = Actor(name="system:voice-settle", channel="system")
BATCH = 200  # calls ended per run at most; the next run (a minute on) takes the rest


def calls_settle_stale(*, now: dt.datetime) -> list[LiveCall]:
    """End the live calls nothing more can be expected of (crm.voice.domain.stale_outcome):
    one missing callback after VOICE_SETTLE_AFTER_SECONDS of silence, or both once the
    longest call Twilio allows is over. Each under its row's lock, as the callbacks take it:
    one that arrives meanwhile either ends the call itself or finds it ended and changes
    nothing. The calls ended now."""
    grace = settings.VOICE_SETTLE_AFTER_SECONDS
    longest = settings.VOICE_LONGEST_CALL_SECONDS
    quiet = Q(updated_at__lte=now - dt.timedelta(seconds=grace))
    waiting = (
        LiveCall.objects.filter(state=LiveCall.State.LIVE)
        .filter(quiet)
        .filter(
            Q(call_status__in=[status.value for status in domain.ENDED_STATUSES])
            | ~Q(queue_result="")
            | Q(started_at__lte=now - _span(longest))
        )
        .order_by("started_at")
        .values_list("call_sid", flat=True)[:BATCH]
    )
    ended = []
    for call_sid in list(waiting):
        call = _settle_one(call_sid, now=now, grace=grace, longest=longest)
        if call is not None:
            ended.append(call)
    return ended


def _settle_one(call_sid: str, *, now: dt.datetime, grace: int, longest: int) -> LiveCall | None:
    with transaction.atomic():
        call = LiveCall.objects.select_for_update().filter(call_sid=call_sid).first()
        if call is None or call.state != LiveCall.State.LIVE:
            return None  # a callback ended it meanwhile
        # Read again under the lock: a callback that came meanwhile restarts the wait.
        stale = domain.stale_outcome(
            handlers.facts_of(call),
            age_seconds=_seconds(now - call.started_at),
            quiet_seconds=_seconds(now - call.updated_at),
            wrapped_up=call.wrap_up is not None,
            grace_seconds=grace,
            longest_seconds=longest,
        )
        if stale is None:
            return None
        heard_last = min(call.updated_at, now)
        handlers.end(call, stale.outcome, ended_at=heard_last, now=now, actor=ACTOR)
        call.save()
        handlers.publish_ended(call)
    log.warning(
        "Call %s ended as %s by the settling job: %s (status %r, queue result %r); %s",
        call.call_sid,
        call.disposition,
        stale.why,
        call.call_status,
        call.queue_result,
        "logged" if call.logged_at else "held for the agent to attribute",
    )
    return call


def _span(seconds: int) -> dt.timedelta:
    return dt.timedelta(seconds=seconds + settings.VOICE_SETTLE_AFTER_SECONDS)


def _seconds(delta: dt.timedelta) -> int:
    return max(int(delta.total_seconds()), 0)
