"""Admin views of the core. The event log and read models are read-only here: changes
only ever happen through command handlers."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm.models import Event, PatientProfile, ProjectionCheckpoint


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["position", "event_type", "stream_id", "version", "occurred_at", "recorded_at"]
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
    show_full_result_count = False  # COUNT(*) over millions of events on every page is waste

    @admin.display(description="data")
    def pretty_data(self, obj: Event) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, sort_keys=True))

    @admin.display(description="metadata")
    def pretty_metadata(self, obj: Event) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.metadata, indent=2, sort_keys=True))


@admin.register(PatientProfile)
class PatientProfileAdmin(ReadOnlyAdmin):
    list_display = ["display_name", "date_of_birth", "phone", "next_appointment_at", "crisis_flag"]
    search_fields = ["search_name", "phone"]
    list_filter = ["crisis_flag", "deceased", "language"]


@admin.register(ProjectionCheckpoint)
class ProjectionCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["name", "position", "updated_at"]
