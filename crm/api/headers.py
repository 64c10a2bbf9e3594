"""The conditional-request and idempotency headers of a write (If-Match, Idempotency-Key), and
the ETag of a read: the version of the patient's event stream (docs/api.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rest_framework.request import Request

from crm.api.problems import invalid

IF_MATCH = "If-Match"
IDEMPOTENCY_KEY = "Idempotency-Key"
_VERSION = re.compile(r'^(?:"(\d{1,18})"|(\d{1,18}))$')
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII, no spaces; a UUID fits


def etag(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True, slots=True)
class WriteConditions:
    expected_version: int | None
    idempotency_key: str | None  # as the client sent it, before namespacing


def write_conditions(request: Request) -> WriteConditions:
    return WriteConditions(
        expected_version=_if_match(request.headers.get(IF_MATCH)),
        idempotency_key=_idempotency_key(request.headers.get(IDEMPOTENCY_KEY)),
    )


def store_key(request: Request, key: str) -> str:
    """Keys are global in the event store; one user's key must never meet another's."""
    return f"user:{request.user.pk}:{key}"


def _if_match(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = raw.strip()
    if value == "*":
        return None  # "any current version": the patient only has to exist
    if value.startswith("W/"):
        raise invalid(IF_MATCH, 'must be a strong ETag such as "7"; weak ETags never match.')
    if "," in value:
        raise invalid(IF_MATCH, 'must name one version, such as "7".')
    match = _VERSION.fullmatch(value)
    if match is None:
        raise invalid(
            IF_MATCH,
            f'{value[:40]!r} is not a version; send the ETag of your last read, such as "7".',
        )
    return int(match.group(1) or match.group(2))


def _idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    if not _KEY.fullmatch(value):
        raise invalid(
            IDEMPOTENCY_KEY,
            "must be 1 to 128 visible ASCII characters without spaces; a fresh UUID per "
            "request is best.",
        )
    return value
