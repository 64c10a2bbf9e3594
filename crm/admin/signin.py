"""Sign-in records in the admin, read-only for supervisors: failures, lockout counters and
successful sign-ins (django-axes' tables). A lockout is lifted with
`manage.py axes_reset_username NAME`, not by deleting rows here: they are the record."""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from crm.admin.readonly import SupervisorReadOnlyAdmin


@admin.register(AccessFailureLog)
class SignInFailureAdmin(SupervisorReadOnlyAdmin):
    list_display = ["attempt_time", "username", "ip_address", "locked_out", "path_info"]
    list_filter = ["locked_out"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"


@admin.register(AccessAttempt)
class LockoutCounterAdmin(SupervisorReadOnlyAdmin):
    list_display = ["attempt_time", "username", "ip_address", "failures_since_start"]
    search_fields = ["username", "ip_address"]
    exclude = ["get_data", "post_data"]


@admin.register(AccessLog)
class SignInAdmin(SupervisorReadOnlyAdmin):
    list_display = ["attempt_time", "logout_time", "username", "ip_address"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "attempt_time"
