"""The tables nobody edits in the admin, superusers included: the event log, the read models,
the access audit and django-q2's jobs, each read by the roles its area names (docs/roles.md)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.admin.access import may_read_restricted_notes
from crm.admin_guard import unguarded
from crm.models import (
    AccessLogEntry,
    ChurnPatient,
    DailyAppointmentStats,
    DailyCallStats,
    DailyReminderStats,
    DailySatisfactionStats,
    DeskEvent,
    EhrSync,
    Event,
    LoggedCall,
    ParkedStream,
    ProjectionCheckpoint,
    RemindedAppointment,
)
from crm.roles import Area

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
    area = Area.OPERATIONS  # superusers with a clinic role (crm.roles)


class SupervisorReadOnlyAdmin(ReadOnlyAdmin):
    """The figures and the tables they are counted from: supervisors read them."""

    area = Area.FIGURES


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The raw log, for supervisors; a restricted note's text only for clinicians among
    them. Filtered by event type or searched by stream id, never on the event's data."""

    patient_field = "stream_id"
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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if _is_restricted_note(obj) and not may_read_restricted_notes(request.user):
            fields[fields.index("pretty_data")] = "redacted_data"
        return fields

    @admin.display(description="patient")
    def patient(self, obj: Event) -> SafeString:
        return patient_link(obj.stream_id)

    @admin.display(description="data")
    def pretty_data(self, obj: Event) -> SafeString:
        return _pretty(obj.data)

    @admin.display(description="data")
    def redacted_data(self, obj: Event) -> SafeString:
        return _pretty({**obj.data, "text": REDACTED})

    @admin.display(description="metadata")
    def pretty_metadata(self, obj: Event) -> SafeString:
        return _pretty(obj.metadata)


def patient_link(stream_id: uuid.UUID) -> SafeString:
    """A stream id as a link to its patient's page, for the tables that list streams."""
    url = reverse("admin:crm_patientprofile_change", args=[stream_id])
    return format_html('<a href="{}">{}</a>', url, stream_id)


def _is_restricted_note(obj: Any) -> bool:
    return (
        isinstance(obj, Event)
        and obj.event_type == "NoteAdded"
        and bool((obj.data or {}).get("restricted"))
    )


def _pretty(value: Any) -> SafeString:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


@admin.register(ProjectionCheckpoint)
class ProjectionCheckpointAdmin(ReadOnlyAdmin):
    area = Area.PIPELINE
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


@admin.register(DailyReminderStats)
class DailyReminderStatsAdmin(SupervisorReadOnlyAdmin):
    list_display = ["day", "reminders_sent", "opt_outs_by_keyword", "opt_outs_by_carrier"]
    date_hierarchy = "day"


@admin.register(RemindedAppointment)
class RemindedAppointmentAdmin(SupervisorReadOnlyAdmin):
    list_display = ["appointment_id", "starts_at", "is_open", "first_reminder_at"]
    list_filter = ["is_open"]


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    """Supervisors only, whatever Django permissions a group was given (as in the API).
    Reading the audit is itself audited, against each patient the page names."""

    area = Area.AUDIT
    list_outcome = "audit_read"
    # Columns follow the model, so the audit's own evolution never breaks the admin.
    list_display = tuple(f.name for f in AccessLogEntry._meta.concrete_fields)[:9]


@admin.register(DeskEvent)
class DeskEventAdmin(ReadOnlyAdmin):
    """What was pushed to the desks, for the operator: its kind, for whom, when and for how
    many patients; never the pushed data (the stream renders and audits that per agent)."""

    list_display = ["id", "kind", "user_id", "patient_count", "created_at"]
    list_filter = ["kind"]
    fields = ("id", "kind", "user_id", "patient_count", "created_at")
    readonly_fields = fields

    @admin.display(description="patients")
    def patient_count(self, obj: DeskEvent) -> int:
        return len(obj.patient_ids)


@admin.register(ChurnPatient)
class ChurnPatientAdmin(SupervisorReadOnlyAdmin):
    """The churn figures' patients: grouped by language, left out when deceased or merged
    (the consents' spans are JSON: shown on the row's page, never filtered or sorted on)."""

    list_display = ["patient_id", "language", "deceased_at", "merged_at", "merged_into"]
    list_filter = ["language"]


@admin.register(EhrSync)
class EhrSyncAdmin(ReadOnlyAdmin):
    """Where each EHR server's nightly sync stands; its last summary on the row's page."""

    list_display = ["source", "synced_through", "last_run_at", "last_error"]


def register_remaining_read_only() -> None:
    """Every other table of the core, and django-q2's, read-only (never a silent gap). The
    site gives each the supervisors' area and audits the patient column it has."""
    for model in apps.get_app_config("crm").get_models():
        if not admin.site.is_registered(model):
            columns = {
                "list_display": [f.name for f in model._meta.concrete_fields][:8],
                "area": Area.PIPELINE if model is ParkedStream else Area.OPERATIONS,
            }
            admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), columns))
    for model in apps.get_app_config("django_q").get_models():
        # django-q2's own admins can resubmit, edit and delete; keep their columns only.
        original = admin.site._registry.get(model)
        if original is not None:
            admin.site.unregister(model)
        base: type[admin.ModelAdmin[models.Model]] = (
            unguarded(type(original)) if original else admin.ModelAdmin
        )
        name = f"ReadOnly{base.__name__}"
        attributes = {"actions": None, "area": Area.OPERATIONS}
        admin.site.register(model, type(name, (ReadOnlyMixin, base), attributes))
