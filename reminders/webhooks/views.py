"""Twilio posts form-encoded webhooks here: an inbound text, or a delivery status.

Not part of the staff API: no session or token, no CSRF. Every request must carry a valid
`X-Twilio-Signature` (HMAC of the exact URL Twilio called and the form, keyed by our Auth
Token); anything else gets a 403 problem and records nothing. A malformed form gets a 400
problem naming the field, and records nothing (I10). Replies are never written into the
TwiML answer: they go through the outbox (`reminders.outbox.enqueue_reply`), so they are
sent exactly once, recorded as SmsSent and pass through the same backend as every text.
"""

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

from crm.domain.errors import InvalidInput
from crm.domain.events.base import MAX_TEXT
from crm.domain.phones import normalize_phone
from reminders.handlers_inbound import InboundSms, sms_receive
from reminders.inbound_status import CallbackStatus, StatusCallback, sms_status_report

log = logging.getLogger(__name__)


def clock() -> dt.datetime:
    """When a webhook arrived: the one place these views read the time (tests set it)."""
    return timezone.now()


# As crm.api.problems writes them (not imported: that module pulls in DRF's settings).
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/problems/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Progress states that say nothing new to us (we record queued, sent and the outcomes).
_IGNORED_STATUSES = {"accepted", "scheduled", "sending", "receiving", "received", "read"}


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    refused = _refuse_unsigned(request)
    if refused is not None:
        return refused
    form = request.POST
    sid = form.get("MessageSid", "").strip()
    if not sid:
        return _invalid({"MessageSid": ["is required."]}, request)
    try:
        from_number = normalize_phone(
            form.get("From", ""), region=settings.PHONE_DEFAULT_REGION, field="From"
        )
    except InvalidInput as error:
        return _invalid({"From": [error.detail]}, request)
    # PostgreSQL cannot store NUL in JSON text; nothing a person typed is lost with it.
    body = form.get("Body", "").replace("\x00", "")
    if len(body) > MAX_TEXT:
        return _invalid({"Body": [f"must be at most {MAX_TEXT} characters."]}, request)
    moment = clock()
    outcome = sms_receive(
        sms=InboundSms(
            provider_message_id=sid, from_number=from_number, body=body, received_at=moment
        ),
        now=moment,
    )
    log.info("Inbound text %s read as %s", sid, outcome.intent.value or "unread")
    return _twiml()


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    refused = _refuse_unsigned(request)
    if refused is not None:
        return refused
    form = request.POST
    sid = form.get("MessageSid", "").strip()
    if not sid:
        return _invalid({"MessageSid": ["is required."]}, request)
    raw_status = form.get("MessageStatus", "").strip().lower()
    if not raw_status:
        return _invalid({"MessageStatus": ["is required."]}, request)
    if raw_status in _IGNORED_STATUSES:
        return _twiml()
    try:
        reported = CallbackStatus(raw_status)
    except ValueError:
        allowed = ", ".join(s.value for s in CallbackStatus)
        return _invalid({"MessageStatus": [f"must be one of: {allowed}."]}, request)
    error_code = form.get("ErrorCode", "").strip()
    if error_code and not error_code.isdigit():
        return _invalid({"ErrorCode": ["must be a Twilio error number such as 30003."]}, request)
    outcome = sms_status_report(
        callback=StatusCallback(
            provider_message_id=sid,
            status=reported,
            error_code=error_code,
            reported_at=clock(),
        )
    )
    log.info("Status %s for %s: %s", reported.value, sid, outcome.value)
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
