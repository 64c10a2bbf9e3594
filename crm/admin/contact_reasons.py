"""The clinic's list of contact reasons, kept by supervisors: what agents pick when they
log a call, and what first-contact resolution matches repeat contacts on."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crm.admin.access import is_supervisor
from crm.models import ContactReason
from crm.roles import Area


@admin.register(ContactReason)
class ContactReasonAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A reason is retired (unticked "active"), never deleted, and its code never changes:
    calls logged with it keep it, and the figures match on it."""

    area = Area.FIGURES
    list_display = ["label", "code", "active", "position"]
    list_filter = ["active"]
    search_fields = ["label", "code"]
    ordering = ["position", "label"]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_supervisor(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_supervisor(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []
