"""Who may do what in the admin: crm.roles' rule, shared with the API (superuser status opens no
patient); crm.admin_guard applies it to every table, views of their own ask `may` here."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from crm.api import audit
from crm.api.audit import AccessNote
from crm.models import AccessAction
from crm.roles import SUPERVISOR, Area, actor_for, may, may_read_restricted_notes, roles_of

User = AbstractBaseUser | AnonymousUser

__all__ = [
    "AccessNote",
    "Area",
    "actor_for",
    "audit_access",
    "is_clinic_staff",
    "is_supervisor",
    "may",
    "may_read_restricted_notes",
]


def is_clinic_staff(user: User) -> bool:
    """Front desk, agents, clinicians and supervisors all work with patients."""
    return may(user, Area.PATIENTS)


def is_supervisor(user: User) -> bool:
    """The supervisor role itself (accounts and settings pages that hold no patient data);
    pages with patient data ask `may` for their area instead."""
    return SUPERVISOR in roles_of(user)


def audit_access(
    request: HttpRequest,
    notes: Sequence[AccessNote],
    *,
    action: str = AccessAction.READ,
    status_code: int = 200,
) -> None:
    """Record who saw or changed which patient through the admin, as the API does: the
    admin URL's route as the endpoint, the source address, the outcome."""
    audit.record(request, user=request.user, action=action, status_code=status_code, notes=notes)
