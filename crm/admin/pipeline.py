"""The pipeline on the supervisor's screens: the dashboard's panel (checkpoints, lag,
parked streams) and the parked streams' table, whose retry action is audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString

from crm.admin.access import AccessNote, Area, audit_access, may
from crm.admin.readonly import ReadOnlyAdmin, patient_link
from crm.models import AccessAction, ParkedStream
from crm.projections import operations
from crm.selectors.pipeline import LAG_COUNT_CAP, ProjectionHealth, pipeline


@dataclass(frozen=True, slots=True)
class PipelinePanel:
    alert: bool
    rows: list[ProjectionHealth]
    lag_alert_seconds: int
    parked: int
    parked_url: str
    lag_cap: int = LAG_COUNT_CAP


def pipeline_panel(now: dt.datetime) -> PipelinePanel:
    rows = pipeline(now)
    return PipelinePanel(
        alert=any(row.alert for row in rows),
        rows=rows,
        lag_alert_seconds=settings.PIPELINE_LAG_ALERT_SECONDS,
        parked=sum(len(row.parked) for row in rows),
        parked_url=reverse("admin:crm_parkedstream_changelist"),
    )


@admin.register(ParkedStream)
class ParkedStreamAdmin(ReadOnlyAdmin):
    """Streams a projection could not apply, with why; a supervisor retries them once the
    cause is fixed (the same code as `manage.py retry_parked`)."""

    area = Area.PIPELINE
    patient_field = "stream_id"
    list_display = ["projection", "patient", "position", "event_type", "reason", "parked_at"]
    list_filter = ["projection"]
    readonly_fields = [
        "projection",
        "stream_id",
        "position",
        "event_type",
        "error",
        "parked_at",
        "attempts",
        "retried_at",
    ]
    actions = ["retry"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return may(request.user, Area.PIPELINE)

    @admin.action(permissions=["retry"], description="Retry the selected streams")
    def retry(self, request: HttpRequest, queryset: QuerySet[ParkedStream]) -> None:
        released: list[AccessNote] = []
        still: list[AccessNote] = []
        for projection, stream_id in list(queryset.values_list("projection", "stream_id")):
            done = operations.retry(projection, stream_id)
            (released if done else still).append(
                AccessNote(stream_id, f"{projection}_{'released' if done else 'still_parked'}")
            )
        audit_access(request, released + still, action=AccessAction.CHANGE)
        if released:
            self.message_user(request, f"{len(released)} released.", messages.SUCCESS)
        if still:
            self.message_user(
                request,
                f"{len(still)} still parked: the reason is updated on each row.",
                messages.WARNING,
            )

    @admin.display(description="patient")
    def patient(self, obj: ParkedStream) -> SafeString:
        return patient_link(obj.stream_id)

    @admin.display(description="why")
    def reason(self, obj: ParkedStream) -> str:
        return obj.error if len(obj.error) <= 120 else obj.error[:117] + "..."
