"""Roles are Django groups; a user's roles decide what the API shows and allows. The rule
itself lives in crm.roles, shared with the admin; this module adds the API's actor."""

from __future__ import annotations

from rest_framework.request import Request

from crm.handlers import Actor
from crm.roles import (
    AGENT,
    CLINICIAN,
    FRONT_DESK,
    ROLES,
    SUPERVISOR,
    Area,
    may,
    may_read_restricted_notes,
    remember_roles,
    role_label,
    roles_of,
)

__all__ = [
    "AGENT",
    "CLINICIAN",
    "FRONT_DESK",
    "ROLES",
    "SUPERVISOR",
    "Area",
    "actor_for",
    "may",
    "may_read_restricted_notes",
    "remember_roles",
    "role_label",
    "roles_of",
]


def actor_for(request: Request) -> Actor:
    user = request.user
    return Actor(
        name=user.get_username(),
        channel="api",
        user_id=user.pk,
        role=role_label(user),
    )
