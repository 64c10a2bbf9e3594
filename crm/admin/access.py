"""Who may do what in the admin. Roles are the API's (Django groups), so a person sees the
same patients and notes through either door; superuser status alone opens no patient."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from crm.api.roles import SUPERVISOR, may_read_restricted_notes, role_label, roles_of
from crm.handlers import Actor

User = AbstractBaseUser | AnonymousUser

__all__ = [
    "actor_for",
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
