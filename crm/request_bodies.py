"""A request body sent without a length (Transfer-Encoding: chunked, no Content-Length) is
read to its end when the server says where it ends, and refused with 411 otherwise."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from gunicorn.http.errors import ParseException  # type: ignore[import-untyped]
from rest_framework import status

from crm.api.problems import (
    PROBLEM_MEDIA_TYPE,
    InvalidRequest,
    Problem,
    content_too_large,
    problem_body,
)

# What a command, a form or a webhook sends its body with.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LengthRequired(Problem):
    status_code = status.HTTP_411_LENGTH_REQUIRED


class RequestBodyMiddleware:
    """First in line (before CSRF reads a form), for every door: API, admin, webhooks.

    Django reads a body without a length as empty: a `confirm/` sent chunked with
    {"via": "sms"} would be recorded with the default, "voice". gunicorn (the production
    server) de-chunks the body, leaves CONTENT_LENGTH unset and sets
    `wsgi.input_terminated`: reading `wsgi.input` to its end then gives the whole body. An
    ASGI server hands Django the whole body before the request exists. Only when neither
    holds is there no telling where the body ends, and then nothing is acted on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in _BODY_METHODS and _length_unknown(request):
            refused = _read_to_the_end(request)
            if refused is not None:
                return refused
        return self.get_response(request)


def _length_unknown(request: HttpRequest) -> bool:
    declared = str(request.META.get("CONTENT_LENGTH") or "").strip()
    return not declared and "HTTP_TRANSFER_ENCODING" in request.META


def _read_to_the_end(request: HttpRequest) -> HttpResponse | None:
    """Make the body readable as if its length had been sent, or say why it cannot be."""
    source = _terminated_stream(request)
    if source is None:
        return _problem(
            request,
            LengthRequired(
                "The body was sent in chunks without a Content-Length, and this server "
                "cannot tell where it ends. Send it with a Content-Length header (most "
                "clients do when the body is built first). Nothing was recorded.",
                errors={"Content-Length": ["is required: the body was sent in chunks."]},
            ),
        )
    limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    try:
        body = source.read(limit + 1)
    except (ParseException, OSError) as exc:
        # gunicorn de-chunks as it is read: a malformed chunk (a size that is no number,
        # a missing CRLF) or a body cut off before its last chunk raises here.
        return _problem(request, _unreadable(exc))
    if len(body) > limit:
        return _problem(request, content_too_large())
    request.META["CONTENT_LENGTH"] = str(len(body))
    # Where Django's request reads its body from (WSGIRequest sets it from CONTENT_LENGTH,
    # before any middleware runs; with none it reads nothing).
    request._stream = io.BytesIO(body)
    return None


def _unreadable(exc: Exception) -> InvalidRequest:
    reason = type(exc).__name__
    return InvalidRequest(
        {
            "body": [
                f"could not be read to its end ({reason}): its chunks are malformed or it "
                "was cut off. Nothing was recorded."
            ]
        }
    )


def _terminated_stream(request: HttpRequest) -> IO[bytes] | None:
    """The body's stream when reading it to its end gives the whole body, else None."""
    if isinstance(request, ASGIRequest):
        return request._stream  # the ASGI handler received every chunk before the request
    if request.META.get("wsgi.input_terminated"):
        terminated: IO[bytes] = request.META["wsgi.input"]
        return terminated
    return None


def _problem(request: HttpRequest, problem: Problem) -> HttpResponse:
    return JsonResponse(
        problem_body(problem, instance=request.path),
        status=problem.status_code,
        content_type=PROBLEM_MEDIA_TYPE,
    )
