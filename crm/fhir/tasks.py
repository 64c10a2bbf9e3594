"""The django-q2 job of the nightly EHR sync, installed when FHIR_SERVER_URL is set."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from crm.fhir.sync import sync


def sync_from_server() -> dict[str, Any]:
    """Import what changed on the EHR's FHIR server since the last sync; its summary."""
    if not settings.FHIR_SERVER_URL:
        return {}
    return sync(settings.FHIR_SERVER_URL).as_dict()
