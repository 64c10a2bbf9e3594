"""The product's URLs plus `GET /bench/bare/lookup`, the floor the API lookup is measured against:
the one indexed query, no DRF, no authentication, no audit (routed by bench.settings only)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from config.urls import handler400, handler500
from config.urls import urlpatterns as product_urlpatterns

__all__ = ["handler400", "handler500", "urlpatterns"]

_LOOKUP = "SELECT * FROM crm_patient_profile WHERE phone = %s LIMIT 1"


def e164(raw: str) -> str:
    """The cheapest normalisation that handles the benchmark's formats: the NANP digits."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    return "+1" + digits[-10:]


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | uuid.UUID):
        return str(value)
    return value


def bare_lookup(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP, [e164(request.GET.get("phone", ""))])
        row = cursor.fetchone()
        columns = [column.name for column in cursor.description or ()]
    if row is None:
        return JsonResponse({"detail": "no match"}, status=404)
    return JsonResponse({name: _json(value) for name, value in zip(columns, row, strict=True)})


urlpatterns = [path("bench/bare/lookup", bare_lookup), *product_urlpatterns]
