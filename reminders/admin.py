"""The admin: the texts are editable; the schedule and the outbox are read only."""

from __future__ import annotations

from django.contrib import admin

from crm.admin.readonly import ReadOnlyMixin
from reminders.messages import PLACEHOLDERS
from reminders.models import MessageTemplate, OutboundMessage, Reminder


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "language", "body", "updated_at")
    list_filter = ("kind", "language")
    ordering = ("kind", "language")

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        kind = obj.kind if obj is not None else None
        allowed = PLACEHOLDERS.get(kind or "", ())
        hint = (
            "May use only: " + ", ".join("{" + name + "}" for name in allowed) + "."
            if allowed
            else "Reminders may use {first_name}, {date}, {time}, {location}, {clinic}, "
            "{clinic_phone}; replies only {clinic} and {clinic_phone}."
        )
        form.base_fields["body"].help_text = (
            hint + " Never a diagnosis, visit type, reason, provider or specialty."
        )
        return form


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("due_at", "kind", "offset_hours", "state", "reason", "patient_id")
    list_filter = ("state", "kind")
    search_fields = ("=patient_id", "=appointment_id", "=reminder_id")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "kind", "to", "status", "reason", "handed_over_at")
    list_filter = ("status", "kind")
    search_fields = ("=to", "=provider_message_id", "=patient_id")
