"""Every API error leaves as application/problem+json (RFC 9457), with an `errors` map from
what the client must fix to messages a person can act on (empty when no input is to blame)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound, UnknownEventType
from crm.eventstore import ConcurrencyConflict, IdempotencyKeyReused

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/api/problems/"


class ProblemJSONRenderer(JSONRenderer):
    media_type = PROBLEM_MEDIA_TYPE


class Problem(exceptions.APIException):
    """An API error with an RFC 9457 type, a title and optional extension members."""

    problem_type = "about:blank"
    title = ""

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.errors = dict(errors or {})
        self.extensions = extensions


class InvalidRequest(Problem):
    status_code = status.HTTP_400_BAD_REQUEST
    problem_type = PROBLEM_BASE + "invalid-request"
    title = "The request has values that cannot be accepted."

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__(_summary(errors), errors=errors)


class PatientMissing(Problem):
    status_code = status.HTTP_404_NOT_FOUND
    problem_type = PROBLEM_BASE + "patient-not-found"
    title = "No such patient."


class CommandRefusedProblem(Problem):
    status_code = status.HTTP_409_CONFLICT
    problem_type = PROBLEM_BASE + "command-refused"
    title = "The patient's record does not allow this."


class EditConflict(Problem):
    status_code = status.HTTP_409_CONFLICT
    problem_type = PROBLEM_BASE + "edit-conflict"
    title = "The patient's record kept changing while this was being saved."


class StaleVersion(Problem):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    problem_type = PROBLEM_BASE + "stale-version"
    title = "The patient's record has changed since you read it."


class IdempotencyKeyConflict(Problem):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    problem_type = PROBLEM_BASE + "idempotency-key-reused"
    title = "This Idempotency-Key was already used for a different request."


class RecordUnreadable(Problem):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    problem_type = PROBLEM_BASE + "record-unreadable"
    title = "This patient's record holds an event this release cannot read."


class ContentTooLarge(Problem):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest({field: [message]})


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler: turn anything we understand into a problem response."""
    problem = _as_problem(exc)
    if problem is None:
        return None  # a bug: let Django log it and answer 500 (see server_error)
    headers: dict[str, str] = {}
    if isinstance(problem, exceptions.APIException):
        auth_header = getattr(problem, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(problem, "wait", None)
        if wait:
            headers["Retry-After"] = f"{int(wait)}"
    request = context.get("request")
    if request is not None:
        # Whatever the client asked for, and even when negotiation itself failed (406),
        # an error is rendered as problem+json rather than by the view's own renderer.
        request.accepted_renderer = ProblemJSONRenderer()
        request.accepted_media_type = PROBLEM_MEDIA_TYPE
    instance = request.path if request is not None else None
    set_rollback()
    return Response(
        problem_body(problem, instance=instance),
        status=problem.status_code,
        headers=headers,
        content_type=PROBLEM_MEDIA_TYPE,
    )


def problem_body(problem: exceptions.APIException, *, instance: str | None) -> dict[str, Any]:
    status_code = problem.status_code
    if isinstance(problem, Problem):
        problem_type, title = problem.problem_type, problem.title
        errors, extensions = problem.errors, problem.extensions
    else:
        problem_type, title, errors, extensions = "about:blank", "", {}, {}
    if problem_type == "about:blank" or not title:
        title = HTTPStatus(status_code).phrase
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status_code,
        "detail": _text(problem.detail),
        "errors": errors,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return body


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400, for what Django refuses before any view runs (say, an unknown Host)."""
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    return _plain_problem(request, 400, "The request was refused before it reached the API.")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a problem document under /api/, Django's page elsewhere."""
    if not request.path.startswith("/api/"):
        return defaults.server_error(request)
    return _plain_problem(
        request,
        500,
        "Something went wrong on our side; nothing you sent was at fault. It has been "
        "logged. If you were saving something, reload the patient to see whether it was "
        "recorded before trying again.",
    )


def _plain_problem(request: HttpRequest, status_code: int, detail: str) -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "errors": {},
        "instance": request.path,
    }
    return JsonResponse(body, status=status_code, content_type=PROBLEM_MEDIA_TYPE)


# --- internals ---------------------------------------------------------------------------


def _as_problem(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.ValidationError):
        return InvalidRequest(flatten_errors(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return invalid("body", _text(exc.detail))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _with_detail(
            exc, f"{_text(exc.detail)} Send JSON with Content-Type: application/json."
        )
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return content_too_large()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, InvalidInput):
        return invalid(exc.field, exc.detail)
    if isinstance(exc, PatientNotFound):
        return PatientMissing(exc.message, patient_id=str(exc.patient_id))
    if isinstance(exc, CommandRefused):
        return CommandRefusedProblem(exc.message)
    if isinstance(exc, IdempotencyKeyReused):
        return IdempotencyKeyConflict(
            "This Idempotency-Key was already used for a different request. Use a new key "
            "for every new request, and the same key only to retry one.",
            errors={"Idempotency-Key": ["was already used for another request."]},
        )
    if isinstance(exc, ConcurrencyConflict):
        return EditConflict(str(exc))
    if isinstance(exc, UnknownEventType):
        logger.error("a stored event cannot be read: %s", exc.message)
        return RecordUnreadable(
            f"{exc.message} Nothing was read or changed. Operators see the patient under "
            "parked streams; try again once the release that reads it is deployed."
        )
    return None


def content_too_large() -> ContentTooLarge:
    limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return ContentTooLarge(
        f"The request body is larger than {limit} bytes. Notes and summaries must be "
        "at most 10,000 characters; send one command per request.",
        errors={"body": [f"is larger than {limit} bytes."]},
    )


def _with_detail(exc: exceptions.APIException, detail: str) -> exceptions.APIException:
    exc.detail = exceptions.ErrorDetail(detail, code=getattr(exc, "default_code", "error"))
    return exc


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field" or "field.sub" or "body": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key)
            if name == "non_field_errors":
                name = "body"
            path = f"{prefix}.{name}" if prefix and name != "body" else (prefix or name)
            for field, messages in flatten_errors(value, path).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "body", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                path = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in flatten_errors(item, path).items():
                    out.setdefault(field, []).extend(messages)
    else:
        out.setdefault(prefix or "body", []).append(str(detail))
    return out


def _summary(errors: Mapping[str, list[str]]) -> str:
    items = [(field, message) for field, messages in errors.items() for message in messages]
    if not items:
        return "The request could not be accepted."
    field, message = items[0]
    first = message if field == "body" else f"{field}: {message}"
    more = len(items) - 1
    if more:
        first += f" (and {more} more; see errors)"
    return first


def _text(detail: Any) -> str:
    if isinstance(detail, (list, tuple)):
        return " ".join(_text(item) for item in detail)
    if isinstance(detail, dict):
        return _summary(flatten_errors(detail))
    return str(detail)
