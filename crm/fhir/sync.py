"""The incremental sync with an EHR's FHIR server: what changed since the last run that went
through (_lastUpdated), then the mark moves; the nightly job and `import_fhir --server`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from crm.fhir.client import FhirClient, FhirServerError
from crm.fhir.importer import BATCH_SIZE, Importer
from crm.fhir.report import Summary
from crm.models import EhrSync

# The next run asks from a little before this one began: a resource the server stamped
# while this run read its pages, or a clock a few minutes apart, is read again, never lost
# (reading it again appends nothing).
MARGIN = dt.timedelta(minutes=5)


def sync(
    url: str,
    *,
    since: dt.datetime | None = None,
    full: bool = False,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    on_resource: Callable[[], None] = lambda: None,
) -> Summary:
    """Import from the server at `url` what changed since `since` (default: since the last
    sync that went through; `full`: everything). Raises FhirServerError, the mark unmoved."""
    started = timezone.now()
    mark = EhrSync.objects.filter(source=url).first()
    if since is None and not full and mark is not None:
        since = mark.synced_through
    importer = Importer(
        source=url, dry_run=dry_run, batch_size=batch_size, now=started, on_resource=on_resource
    )
    client = FhirClient(url, page_size=settings.FHIR_PAGE_SIZE, token=settings.FHIR_SERVER_TOKEN)
    try:
        summary = importer.import_server(client, since)
    except FhirServerError as exc:
        if not dry_run:
            EhrSync.objects.update_or_create(
                source=url, defaults={"last_run_at": started, "last_error": str(exc)[:1000]}
            )
        raise
    if not dry_run:
        EhrSync.objects.update_or_create(
            source=url,
            defaults={
                "synced_through": started - MARGIN,
                "last_run_at": started,
                "last_summary": summary.as_dict(),
                "last_error": "",
            },
        )
    return summary
