"""Who may call the API: the access rule of crm.roles, the same one the admin obeys. Each
permission names the area its endpoints show."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from crm.roles import ROLES, Area, may


class OpensArea(BasePermission):
    """An authenticated user with a clinic role that opens `area`."""

    area: ClassVar[Area]

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and may(request.user, self.area))


class IsClinicStaff(OpensArea):
    """An authenticated user in at least one clinic role. Superuser status grants nothing:
    patient data is shown to people whose job needs it, and a role says what the job is."""

    area = Area.PATIENTS
    message = (
        "Your account has no clinic role ("
        + ", ".join(ROLES)
        + "); ask an administrator to add you to the group for your job."
    )


class IsSupervisor(OpensArea):
    area = Area.AUDIT
    message = "Only supervisors may read the access audit."


class ReadsFigures(OpensArea):
    area = Area.FIGURES
    message = "Only supervisors may read the contact center's figures."


class ReadsPipeline(OpensArea):
    area = Area.PIPELINE
    message = "Only supervisors may read the pipeline's health."
