"""The supervisor's win-back list as CSV: every patient with a re_engage suggestion still active
(open, being handled or put off), in queue order; each patient exported is in the access audit."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from crm.admin import formatting as fmt
from crm.admin.access import AccessNote, Area, audit_access, may
from crm.models import AccessAction, PatientProfile
from engagement.domain.suggestions import Kind, Status
from engagement.models import Suggestion
from engagement.selectors import in_queue_order, status_at, with_status

COLUMNS = (
    "patient_id",
    "name",
    "phone",
    "language",
    "last_visit",
    "last_visit_type",
    "lapsed_on",
    "due",
    "priority",
    "status",
    "assignee",
    "attempts",
    "reach_by",
    "reason",
)
ON_THE_LIST = (Status.OPEN.value, Status.CLAIMED.value, Status.SNOOZED.value)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def win_back_csv(request: HttpRequest) -> HttpResponse:
    """Supervisors only (the figures and the patients both): names and numbers leave the
    CRM in this file, so each patient in it gets an access-log row (export)."""
    if not (may(request.user, Area.FIGURES) and may(request.user, Area.PATIENTS)):
        raise PermissionDenied("The win-back list is for supervisors.")
    now = timezone.now()
    rows = list(
        in_queue_order(
            with_status(Suggestion.objects.filter(kind=Kind.RE_ENGAGE.value), ON_THE_LIST, now)
        )
    )
    profiles = {
        p.patient_id: p
        for p in PatientProfile.objects.filter(patient_id__in={r.patient_id for r in rows})
    }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_safe(cell) for cell in _line(row, profiles.get(row.patient_id), now)])
    notes = [AccessNote(pid, "exported") for pid in dict.fromkeys(r.patient_id for r in rows)]
    # An empty list is exported too: the audit says who took it, when, with nobody in it.
    audit_access(request, notes or [AccessNote(None, "exported")], action=AccessAction.EXPORT)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    day = now.astimezone(fmt.clinic_zone()).date()
    response["Content-Disposition"] = f'attachment; filename="win-back-{day}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _line(row: Suggestion, profile: PatientProfile | None, now: dt.datetime) -> list[Any]:
    zone = profile.timezone if profile else ""
    payload = row.payload or {}
    last_visit = payload.get("last_visit_at")
    return [
        str(row.patient_id),
        profile.display_name if profile else "",
        fmt.phone(profile.phone) if profile else "",
        profile.language_name if profile else "",
        fmt.moment(dt.datetime.fromisoformat(last_visit), zone) if last_visit else "",
        str(payload.get("last_visit_type", "")).replace("_", " "),
        fmt.moment(row.opened_at, zone),
        fmt.moment(row.due_at, zone),
        row.priority,
        status_at(row, now),
        row.assignee,
        payload.get("attempts", 0),
        " or ".join(fmt.channel_label(c) for c in payload.get("channels", [])),
        row.reason,
    ]


def _safe(cell: Any) -> Any:
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell
