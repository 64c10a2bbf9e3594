"""The django-q2 job of the nightly EHR sync, installed when FHIR_SERVER_URL is set."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from crm import schedules

JOB = "crm.fhir.tasks.sync_from_server"


def schedule() -> None:
    """Install the sync's recurring job when an EHR server is configured (FHIR_SERVER_URL)."""
    if settings.FHIR_SERVER_URL:
        schedules.add(
            schedules.RecurringJob(
                name="crm: import what changed on the EHR's FHIR server",
                func=JOB,
                minutes=settings.FHIR_SYNC_MINUTES,
            )
        )


def sync_from_server() -> dict[str, Any]:
    """Import what changed on the EHR's FHIR server since the last sync; its summary."""
    if not settings.FHIR_SERVER_URL:
        return {}
    from crm.fhir.sync import sync  # the import's models load with the job, not at startup

    return sync(settings.FHIR_SERVER_URL).as_dict()
