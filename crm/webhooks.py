"""What every signed Twilio webhook shares (texts and calls): the X-Twilio-Signature check over
the URL Twilio called, and the problem documents a refused request gets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from twilio.request_validator import (  # type: ignore[import-untyped]
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# As crm.api.problems writes them (not imported: that module pulls in DRF's settings).
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/problems/"


def read_signed(
    request: HttpRequest, *, kind: str, read: Callable[[QueryDict], T]
) -> T | HttpResponse:
    """What `read` makes of a signed request's form; or the 403 problem of a request Twilio
    did not sign, or the 400 of a form `read` refuses."""
    refused = refuse_unsigned(request, kind=kind)
    if refused is not None:
        return refused
    try:
        return read(request.POST)
    except Refused as error:
        return invalid(request, error.errors)


def refuse_unsigned(request: HttpRequest, *, kind: str) -> HttpResponse | None:
    """A 403 problem unless the request carries Twilio's signature over what we received.
    `kind` names the webhook in the log ("SMS", "Voice")."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return forbidden(request, kind, f"The {SIGNATURE_HEADER} header is missing.")
    if request.headers.get(SIGNATURE_SETTINGS_HEADER):
        # Shared-key signing belongs to Twilio's Webhooks configuration API, which is not a
        # HIPAA eligible service: this clinic signs with the account's Auth Token only.
        detail = "Webhooks signed with a shared key are not accepted here."
        return forbidden(request, kind, detail)
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        log.error("A %s webhook arrived but TWILIO_AUTH_TOKEN is not set: refused.", kind)
        return forbidden(request, kind, "This server cannot check Twilio signatures.")
    if not RequestValidator(token).validate(public_url(request), request.POST, signature):
        detail = f"The {SIGNATURE_HEADER} header does not match the request."
        return forbidden(request, kind, detail)
    return None


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called: behind a proxy, TWILIO_WEBHOOK_BASE_URL plus our path."""
    base = settings.TWILIO_WEBHOOK_BASE_URL
    if base:
        return base + request.get_full_path()
    return request.build_absolute_uri()


def forbidden(request: HttpRequest, kind: str, detail: str) -> HttpResponse:
    log.warning("%s webhook refused (%s): %s", kind, request.path, detail)
    return problem(request, HTTPStatus.FORBIDDEN, "signature-invalid", detail, {})


def invalid(request: HttpRequest, errors: Mapping[str, list[str]]) -> HttpResponse:
    detail = " ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return problem(request, HTTPStatus.BAD_REQUEST, "invalid-request", detail, errors)


def problem(
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


Errors = dict[str, list[str]]


class Refused(Exception):
    """The request does not say what Twilio says: `errors` names each field and why."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


class FormReader:
    """Reads a webhook's form field by field, collecting what is wrong with each; `finish`
    refuses the request whole (Refused) if anything was."""

    def __init__(self, form: QueryDict) -> None:
        self.form = form
        self.errors: Errors = {}

    def refuse(self, field: str, reason: str) -> None:
        self.errors.setdefault(field, []).append(reason)

    def finish(self) -> None:
        if self.errors:
            raise Refused(self.errors)
