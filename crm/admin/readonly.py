"""The tables nobody edits in the admin: the event log, the read models, the access audit
and django-q2's job tables. They can be read here; adding, changing and deleting is
refused to everyone, superusers included. Changes only ever come through command handlers
(the log, and the projections that follow it) or from the jobs themselves."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.admin.access import AccessNote, audit_access, is_supervisor, may_read_restricted_notes
from crm.models import (
    AccessLogEntry,
    DailyAppointmentStats,
    DailyCallStats,
    DailySatisfactionStats,
    Event,
    LoggedCall,
    ProjectionCheckpoint,
)

REDACTED = "[restricted note: clinicians only]"


class ReadOnlyMixin:
    """Refuses every write, whatever the user's Django permissions say."""

    actions: Any = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    show_full_result_count = False  # a COUNT(*) over a long log on every page is waste


class SupervisorReadOnlyAdmin(ReadOnlyAdmin):
    """Figures and the audit: supervisors read them without any Django permission."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user) or super().has_view_permission(request, obj)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["position", "event_type", "patient", "version", "occurred_at", "recorded_at"]
    list_filter = ["event_type"]
    search_fields = ["=stream_id", "event_type"]
    readonly_fields = [
        "position",
        "stream_id",
        "version",
        "event_type",
        "schema_version",
        "pretty_data",
        "pretty_metadata",
        "occurred_at",
        "recorded_at",
    ]
    exclude = ["data", "metadata"]

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        event = super().get_object(request, object_id, from_field)
        request.crm_event_read = event  # type: ignore[attr-defined]
        return event

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        # A raw event is the patient's data: reading one is audited like their page.
        event: Event | None = getattr(request, "crm_event_read", None)
        if event is not None and response.status_code == 200:
            audit_access(request, [AccessNote(event.stream_id, "returned")])
        return response

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if _is_restricted_note(obj) and not may_read_restricted_notes(request.user):
            fields[fields.index("pretty_data")] = "redacted_data"
        return fields

    @admin.display(description="patient")
    def patient(self, obj: Event) -> SafeString:
        url = reverse("admin:crm_patientprofile_change", args=[obj.stream_id])
        return format_html('<a href="{}">{}</a>', url, obj.stream_id)

    @admin.display(description="data")
    def pretty_data(self, obj: Event) -> SafeString:
        return _pretty(obj.data)

    @admin.display(description="data")
    def redacted_data(self, obj: Event) -> SafeString:
        return _pretty({**obj.data, "text": REDACTED})

    @admin.display(description="metadata")
    def pretty_metadata(self, obj: Event) -> SafeString:
        return _pretty(obj.metadata)


def _is_restricted_note(obj: Any) -> bool:
    return (
        isinstance(obj, Event)
        and obj.event_type == "NoteAdded"
        and bool((obj.data or {}).get("restricted"))
    )


def _pretty(value: Any) -> SafeString:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(ProjectionCheckpoint)
class ProjectionCheckpointAdmin(SupervisorReadOnlyAdmin):
    list_display = ["name", "position", "updated_at"]


@admin.register(DailyCallStats)
class DailyCallStatsAdmin(SupervisorReadOnlyAdmin):
    list_display = ["day", "channel", "direction", "calls", "connected", "abandoned", "unanswered"]
    list_filter = ["channel", "direction"]
    date_hierarchy = "day"


@admin.register(DailyAppointmentStats)
class DailyAppointmentStatsAdmin(SupervisorReadOnlyAdmin):
    list_display = ["day", "scheduled", "confirmed", "cancelled", "completed", "no_shows"]
    date_hierarchy = "day"


@admin.register(DailySatisfactionStats)
class DailySatisfactionStatsAdmin(SupervisorReadOnlyAdmin):
    list_display = ["day", "responses", "satisfied", "score_total"]
    date_hierarchy = "day"


@admin.register(LoggedCall)
class LoggedCallAdmin(SupervisorReadOnlyAdmin):
    list_display = ["position", "day", "channel", "direction", "disposition", "reason_key"]
    list_filter = ["channel", "direction", "disposition"]
    date_hierarchy = "day"


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    """Supervisors only, whatever Django permissions a group was given (as in the API)."""

    # Columns follow the model, so the audit's own evolution never breaks the admin.
    list_display = tuple(f.name for f in AccessLogEntry._meta.concrete_fields)[:9]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)


def register_remaining_read_only() -> None:
    """Every other table of the core, and django-q2's, read-only (never a silent gap)."""
    for model in apps.get_app_config("crm").get_models():
        if not admin.site.is_registered(model):
            columns = {"list_display": [f.name for f in model._meta.concrete_fields][:8]}
            admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), columns))
    for model in apps.get_app_config("django_q").get_models():
        # django-q2's own admins can resubmit, edit and delete; keep their columns only.
        original = admin.site._registry.get(model)
        if original is not None:
            admin.site.unregister(model)
        base: type[admin.ModelAdmin[models.Model]] = (
            type(original) if original else admin.ModelAdmin
        )
        name = f"ReadOnly{base.__name__}"
        admin.site.register(model, type(name, (ReadOnlyMixin, base), {"actions": None}))
