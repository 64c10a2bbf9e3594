"""django-axes' database handler with a limit per username and another per address
(LOGIN_ADDRESS_FAILURE_LIMIT), so one person's typos cannot lock out a shared front desk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """Axes compares both counts with one limit (AXES_FAILURE_LIMIT). A clinic's desks often
    sit behind one public address, where that limit would let one person's typos lock out
    the whole front desk; so the address's own count meets LOGIN_ADDRESS_FAILURE_LIMIT."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        # One queryset per AXES_LOCKOUT_PARAMETERS entry: ["username", "ip_address"].
        by_user, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if by_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            # Axes locks when this reaches its own limit, the per-username one.
            return max(by_user, settings.AXES_FAILURE_LIMIT)
        return int(by_user)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The page a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE), 429 like axes' own."""
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "minutes": settings.AXES_COOLOFF_TIME // dt.timedelta(minutes=1),
    }
    return render(request, "admin/crm/locked_out.html", context, status=429)
