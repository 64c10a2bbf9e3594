"""Who may call the API: clinic staff (any role) for patients, supervisors for the audit."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from crm.api.roles import ROLES, SUPERVISOR, roles_of


class IsClinicStaff(BasePermission):
    """An authenticated user in at least one clinic role. Superuser status grants nothing:
    patient data is shown to people whose job needs it, and a role says what the job is."""

    message = (
        "Your account has no clinic role ("
        + ", ".join(ROLES)
        + "); ask an administrator to add you to the group for your job."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and roles_of(request.user))


class IsSupervisor(IsClinicStaff):
    message = "Only supervisors may read the access audit."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and SUPERVISOR in roles_of(request.user)
