"""Twilio posts form-encoded webhooks here (an inbound text, or a delivery status): no session,
token or CSRF, but a signature; checked and bounded at the door (docs/texting.md)."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.domain.errors import UnknownEventType
from crm.webhooks import problem, read_signed
from reminders.handlers.inbound import InboundSms, sms_receive
from reminders.handlers.status_reports import StatusCallback, sms_status_report
from reminders.webhooks import forms

log = logging.getLogger(__name__)


def clock() -> dt.datetime:
    """When a webhook arrived: the one place these views read the time (tests set it)."""
    return timezone.now()


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    read = partial(
        forms.read_inbound,
        region=settings.PHONE_DEFAULT_REGION,
        account_sid=settings.TWILIO_ACCOUNT_SID,
    )
    text = read_signed(request, kind="SMS", read=read)
    if isinstance(text, HttpResponse):
        return text
    moment = clock()
    try:
        outcome = sms_receive(
            sms=InboundSms(
                provider_message_id=text.sid,
                from_number=text.from_number,
                body=text.body,
                received_at=moment,
            ),
            now=moment,
        )
    except UnknownEventType as exc:
        return _unreadable(request, exc, "The text was recorded wherever it could be")
    log.info("Inbound text %s read as %s", text.sid, outcome.intent.value or "unread")
    return _twiml()


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    read = partial(forms.read_status, account_sid=settings.TWILIO_ACCOUNT_SID)
    report = read_signed(request, kind="SMS", read=read)
    if isinstance(report, HttpResponse):
        return report
    if report.tracked is None:  # progress that says nothing new to us
        return _twiml()
    try:
        outcome = sms_status_report(
            callback=StatusCallback(
                provider_message_id=report.sid,
                status=report.tracked,
                error_code=report.error_code,
                reported_at=clock(),
            )
        )
    except UnknownEventType as exc:
        return _unreadable(request, exc, "The status was recorded wherever it could be")
    log.info("Status %s for %s: %s", report.status, report.sid, outcome.value)
    return _twiml()


# --- answers ----------------------------------------------------------------------------------


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


def _unreadable(request: HttpRequest, exc: UnknownEventType, done: str) -> HttpResponse:
    # A record this release cannot read (docs/failure-model.md): everyone else on the
    # number has it; a 503 asks for the retry that records the rest, once (per-stream keys).
    detail = f"{exc.message} {done}; send it again."
    return problem(request, HTTPStatus.SERVICE_UNAVAILABLE, "record-unreadable", detail, {})
