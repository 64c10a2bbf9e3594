"""The admin: the texts and (for supervisors) the SMS-safe names are editable; the schedule
and the outbox are read only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString

from crm.admin import formatting as fmt
from crm.admin.access import is_supervisor
from crm.admin.readonly import ReadOnlyMixin, patient_link
from crm.roles import Area
from reminders.domain import replies
from reminders.domain.texts import PLACEHOLDERS
from reminders.models import MessageTemplate, OutboundMessage, Reminder, SmsAlias


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    area = None  # no patient data: Django's permissions decide (crm.admin_guard)
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
            else "Reminders may use {first_name}, {date}, {time}, {location}, {provider}, "
            "{clinic}, {clinic_phone}; replies only {clinic} and {clinic_phone}."
        )
        form.base_fields["body"].help_text = (
            hint + " {location} and {provider} give their SMS-safe names (see SMS-safe names). "
            "Never a diagnosis, visit type, reason, specialty, or a location or provider "
            "written out."
        )
        return form


@admin.register(SmsAlias)
class SmsAliasAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Supervisors decide what texts call a place or a person, whatever Django permissions a
    group was given: a wrong alias reaches every patient's phone."""

    list_display = ("kind", "name", "alias", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "alias")
    fields = ("kind", "name", "alias")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The texts due and sent: the front desk reads them (the patients' area, as in the
    API), with a link to each patient's page; they change only through the schedule."""

    area = Area.PATIENTS
    list_display = ("due_at", "kind", "offset_hours", "state", "reply", "reason", "patient")
    list_filter = ("state", "kind")
    search_fields = ("=patient_id", "=appointment_id", "=reminder_id")

    @admin.display(description="patient")
    def patient(self, obj: Reminder) -> SafeString:
        return patient_link(obj.patient_id)

    @admin.display(description="reply")
    def reply(self, obj: Reminder) -> str:
        """The patient's answer to the text and when, in the patient's zone."""
        words = replies.words(obj.reply_intent, obj.reply_text)
        if not words or obj.replied_at is None:
            return ""
        return f"{words}, {fmt.moment(obj.replied_at, obj.timezone)}"


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "kind", "to", "status", "reason", "handed_over_at")
    list_filter = ("status", "kind")
    search_fields = ("=to", "=provider_message_id", "=patient_id")
