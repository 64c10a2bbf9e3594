"""Sign-in in the admin: django-axes' records, read-only for supervisors, and the staff's
authenticator apps, which account managers may remove but never read the secret of."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.admin.readonly import SupervisorReadOnlyAdmin


@admin.register(AccessFailureLog)
class SignInFailureAdmin(SupervisorReadOnlyAdmin):
    list_display = ["attempt_time", "username", "ip_address", "locked_out", "path_info"]
    list_filter = ["locked_out"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"


@admin.register(AccessAttempt)
class LockoutCounterAdmin(SupervisorReadOnlyAdmin):
    # A lockout is lifted with `manage.py axes_reset_username NAME`, not by deleting rows
    # here: they are the record.
    list_display = ["attempt_time", "username", "ip_address", "failures_since_start"]
    search_fields = ["username", "ip_address"]
    exclude = ["get_data", "post_data"]


@admin.register(AccessLog)
class SignInAdmin(SupervisorReadOnlyAdmin):
    list_display = ["attempt_time", "logout_time", "username", "ip_address"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"


_DEVICE_COLUMNS = ("user", "name", "confirmed", "created_at", "last_used_at")


class AuthenticatorAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Delete only: the owner adds an app on the "Two-factor sign-in" page, where alone its
    secret is shown (django-otp's own admin shows it to anyone who may change devices)."""

    list_display = _DEVICE_COLUMNS
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = _DEVICE_COLUMNS
    readonly_fields = _DEVICE_COLUMNS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def register() -> None:
    if admin.site.is_registered(TOTPDevice):
        admin.site.unregister(TOTPDevice)
    admin.site.register(TOTPDevice, AuthenticatorAdmin)
