"""Writing the access audit: one row per patient whose data a response carried, and one
per lookup whatever it found. Rows hold identifiers and outcomes, never the data."""

from __future__ import annotations

import functools
import ipaddress
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework.request import Request
from rest_framework.settings import api_settings

from crm.api.roles import role_label
from crm.models import AccessAction, AccessLogEntry

_DIGEST_SALT = "crm.api.audit.query"

# Outcomes by HTTP status when a view did not name one itself.
_OUTCOMES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "invalid",
    409: "refused",
    412: "stale_version",
    413: "too_large",
    415: "invalid",
    422: "key_reused",
    429: "throttled",
}
_SUCCESS = {
    AccessAction.READ: "returned",
    AccessAction.CREATE: "created",
    AccessAction.CHANGE: "changed",
    AccessAction.EXPORT: "exported",
}


@dataclass(frozen=True, slots=True)
class AccessNote:
    """One patient (or none, for a lookup that found nobody) and what happened."""

    patient_id: uuid.UUID | None
    outcome: str
    query_digest: str = ""


def query_digest(value: str) -> str:
    """A keyed hash of a looked-up value: comparable across rows, useless without the key.

    Keyed with SECRET_KEY, so digests from before a key rotation no longer match.
    """
    return salted_hmac(_DIGEST_SALT, value, algorithm="sha256").hexdigest()


def outcome_for(status_code: int, action: str) -> str:
    if 200 <= status_code < 300:
        return _SUCCESS.get(AccessAction(action), "returned")
    if status_code >= 500:
        return "error"
    return _OUTCOMES.get(status_code, "refused")


def record(
    request: Request | HttpRequest,
    *,
    user: object,
    action: str,
    status_code: int,
    notes: Sequence[AccessNote],
) -> None:
    """One row per note. `request` is the API's DRF request or the admin's plain Django
    one: both carry the method, the resolved route (the endpoint) and the source address."""
    if not notes:
        return
    at = timezone.now()
    route = request.resolver_match.route if request.resolver_match else request.path
    endpoint = f"{request.method} /{route}"[:200]
    address = source_address(request)
    user_id = getattr(user, "pk", None)
    username = getattr(user, "get_username", lambda: "")()
    role = role_label(user)
    shared = {
        "at": at,
        "user_id": user_id,
        "username": username,
        "role": role,
        "action": action,
        "endpoint": endpoint,
        "source_address": address,
        "status_code": status_code,
    }
    rows = [
        {**shared, "patient_id": n.patient_id, "outcome": n.outcome, "query_digest": n.query_digest}
        for n in notes
    ]
    # One INSERT for every row: atomic on its own, so a read request (in autocommit) pays one
    # round trip, where Model.save adds signals and bulk_create a BEGIN ... COMMIT around
    # it (docs/benchmarks.md). Notes come from one page of a list (at most a few hundred
    # patients), far below the bind-parameter limits of PostgreSQL and SQLite.
    fields = _fields()
    params = [f.get_db_prep_save(row[f.attname], connection) for row in rows for f in fields]
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql() + values, params)


@functools.cache
def _fields() -> list[Field[Any, Any]]:
    return [f for f in AccessLogEntry._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in _fields())
    return f"INSERT INTO {qn(AccessLogEntry._meta.db_table)} ({columns}) VALUES "


def source_address(request: Request | HttpRequest) -> str | None:
    """The client's address. X-Forwarded-For is believed only as far as the operator says
    proxies sit in front of the app (REST_FRAMEWORK["NUM_PROXIES"]); otherwise anyone
    could write any address into the audit with one header."""
    proxies = api_settings.NUM_PROXIES or 0
    candidate = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
