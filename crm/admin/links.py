"""Links from an admin page to patients' records: the candidates a call or an EHR record may
belong to, each named as the CRM has it."""

from __future__ import annotations

from collections.abc import Sequence

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from crm.models import PatientProfile


def candidate_links(candidates: Sequence[str], *, none: str) -> SafeString:
    """One line a candidate: a link to the record, its name and id ("(no longer on file)" for
    a record gone since), or `none` when there are none."""
    known = {str(p.patient_id): p for p in PatientProfile.objects.filter(patient_id__in=candidates)}
    rows = [
        (
            reverse("admin:crm_patientprofile_change", args=[pid]),
            str(known[pid]) if pid in known else "(no longer on file)",
            pid,
        )
        for pid in candidates
    ]
    return format_html_join(
        mark_safe("<br>"), '<a href="{}">{}</a> <code>{}</code>', rows
    ) or format_html("{}", none)
