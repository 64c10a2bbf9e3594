"""Probes for load balancers and orchestrators, no authentication, no patient data: /healthz
(the process and the database answer) and /readyz (also, no projection stands still)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from crm.selectors.pipeline import pipeline

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    if not _database_answers():
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    if not _database_answers():
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    try:
        projections = pipeline(timezone.now())
    except DatabaseError:
        logger.exception("readyz: the pipeline's health could not be read")
        return JsonResponse({"status": "unavailable", "database": "error"}, status=503)
    stalled = {p.name: round(p.stalled_seconds) for p in projections if p.stalled}
    body = {
        "status": "stalled" if stalled else "ready",
        "stalled_projections": stalled,
        "stall_threshold_seconds": settings.READY_STALL_SECONDS,
        "parked_streams": sum(len(p.parked) for p in projections),
    }
    return JsonResponse(body, status=503 if stalled else 200)


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except DatabaseError:
        logger.exception("health probe: the database does not answer")
        return False
