"""Who may do what in the admin. Roles are the API's (Django groups), so a person sees the
same patients and notes through either door; superuser status alone opens no patient."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from crm.api import audit
from crm.api.audit import AccessNote
from crm.api.roles import SUPERVISOR, may_read_restricted_notes, role_label, roles_of
from crm.handlers import Actor
from crm.models import AccessAction

User = AbstractBaseUser | AnonymousUser

__all__ = [
    "AccessNote",
    "actor_for",
    "audit_access",
    "is_clinic_staff",
    "is_supervisor",
    "may_read_restricted_notes",
]


def is_clinic_staff(user: User) -> bool:
    """Front desk, agents, clinicians and supervisors all work with patients."""
    return bool(roles_of(user))


def is_supervisor(user: User) -> bool:
    return SUPERVISOR in roles_of(user)


def actor_for(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(
        name=user.get_username(),
        channel="admin",
        user_id=user.pk,
        role=role_label(user),
    )


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
