"""Twilio posts form-encoded webhooks here (an inbound text, or a delivery status): no session,
token or CSRF, but a signature; checked and bounded at the door (docs/texting.md)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import (  # type: ignore[import-untyped]
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
)

from crm.domain.errors import UnknownEventType
from reminders.handlers.inbound import InboundSms, sms_receive
from reminders.handlers.status_reports import StatusCallback, sms_status_report
from reminders.webhooks import forms

log = logging.getLogger(__name__)


def clock() -> dt.datetime:
    """When a webhook arrived: the one place these views read the time (tests set it)."""
    return timezone.now()


# As crm.api.problems writes them (not imported: that module pulls in DRF's settings).
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/problems/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    refused = _refuse_unsigned(request)
    if refused is not None:
        return refused
    try:
        text = forms.read_inbound(
            request.POST,
            region=settings.PHONE_DEFAULT_REGION,
            account_sid=settings.TWILIO_ACCOUNT_SID,
        )
    except forms.Refused as error:
        return _invalid(error.errors, request)
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
    refused = _refuse_unsigned(request)
    if refused is not None:
        return refused
    try:
        report = forms.read_status(request.POST, account_sid=settings.TWILIO_ACCOUNT_SID)
    except forms.Refused as error:
        return _invalid(error.errors, request)
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


# --- signature -------------------------------------------------------------------------------


def _refuse_unsigned(request: HttpRequest) -> HttpResponse | None:
    """A 403 problem unless the request carries Twilio's signature over what we received."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return _forbidden(request, f"The {SIGNATURE_HEADER} header is missing.")
    if request.headers.get(SIGNATURE_SETTINGS_HEADER):
        # Shared-key signing belongs to Twilio's Webhooks configuration API, which is not a
        # HIPAA eligible service: this clinic signs with the account's Auth Token only.
        return _forbidden(request, "Webhooks signed with a shared key are not accepted here.")
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        log.error("An SMS webhook arrived but TWILIO_AUTH_TOKEN is not set: refused.")
        return _forbidden(request, "This server cannot check Twilio signatures.")
    if not RequestValidator(token).validate(public_url(request), request.POST, signature):
        return _forbidden(request, f"The {SIGNATURE_HEADER} header does not match the request.")
    return None


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called: behind a proxy, TWILIO_WEBHOOK_BASE_URL plus our path."""
    base = settings.TWILIO_WEBHOOK_BASE_URL
    if base:
        return base + request.get_full_path()
    return request.build_absolute_uri()


# --- answers ----------------------------------------------------------------------------------


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


def _forbidden(request: HttpRequest, detail: str) -> HttpResponse:
    log.warning("SMS webhook refused (%s): %s", request.path, detail)
    return _problem(request, HTTPStatus.FORBIDDEN, "signature-invalid", detail, {})


def _unreadable(request: HttpRequest, exc: UnknownEventType, done: str) -> HttpResponse:
    # A record this release cannot read (docs/failure-model.md): everyone else on the
    # number has it; a 503 asks for the retry that records the rest, once (per-stream keys).
    detail = f"{exc.message} {done}; send it again."
    return _problem(request, HTTPStatus.SERVICE_UNAVAILABLE, "record-unreadable", detail, {})


def _invalid(errors: Mapping[str, list[str]], request: HttpRequest) -> HttpResponse:
    detail = " ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return _problem(request, HTTPStatus.BAD_REQUEST, "invalid-request", detail, errors)


def _problem(
    request: HttpRequest,
    status_code: HTTPStatus,
    kind: str,
    detail: str,
    errors: Mapping[str, list[str]],
) -> HttpResponse:
    body = {
        "type": PROBLEM_BASE + kind,
        "title": status_code.phrase,
        "status": int(status_code),
        "detail": detail,
        "errors": dict(errors),
        "instance": request.path,
    }
    return JsonResponse(body, status=int(status_code), content_type=PROBLEM_MEDIA_TYPE)
