"""Twilio Voice posts its webhooks here: a call comes in (answered with TwiML that puts the
caller in line), and its status and queue callbacks. No session or CSRF: a signature."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.voice import forms, handlers, twiml
from crm.webhooks import public_url, read_signed

log = logging.getLogger(__name__)
TWIML = "text/xml; charset=utf-8"


def clock() -> dt.datetime:
    """When a webhook arrived: the one place these views read the time (tests set it)."""
    return timezone.now()


@csrf_exempt
@require_POST
def incoming(request: HttpRequest) -> HttpResponse:
    call = read_signed(request, kind="Voice", read=_read)
    if isinstance(call, HttpResponse):
        return call
    answer = handlers.call_arrived(call, now=clock())
    log.info("Call %s queued in %s", call.call_sid, answer.routing.queue or "the workflow")
    return _twiml(twiml.enqueue(answer.routing, action=_action_url(request), wait_url=_wait()))


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """Status callbacks (CallStatus, CallDuration, SequenceNumber) and the queue's action
    callback (QueueResult, QueueTime): one door, since either may come first."""
    report = read_signed(request, kind="Voice", read=_read)
    if isinstance(report, HttpResponse):
        return report
    call = handlers.call_reported(report, now=clock())
    log.info("Call %s: %s", report.call_sid, call.state)
    if report.queue_result is not None:
        return _twiml(twiml.after_queue(report.queue_result))
    return _twiml(twiml.empty())


def _read(form: QueryDict) -> forms.VoiceRequest:
    return forms.read(
        form,
        region=settings.PHONE_DEFAULT_REGION,
        account_sid=settings.TWILIO_ACCOUNT_SID,
    )


def _action_url(request: HttpRequest) -> str:
    """Where Twilio reports the queue's result: our status door, at the URL Twilio signs."""
    path = reverse("voice-webhooks:status")
    base = public_url(request)
    return base[: len(base) - len(request.get_full_path())] + path


def _wait() -> str:
    wait_url: str = settings.TWILIO_VOICE_WAIT_URL
    return wait_url


def _twiml(document: str) -> HttpResponse:
    return HttpResponse(document, content_type=TWIML)
