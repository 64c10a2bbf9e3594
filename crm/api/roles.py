"""Roles are Django groups; a user's roles decide what the API shows and allows."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from crm.handlers import Actor

AGENT = "agent"
FRONT_DESK = "front_desk"
CLINICIAN = "clinician"
SUPERVISOR = "supervisor"
ROLES = (AGENT, FRONT_DESK, CLINICIAN, SUPERVISOR)

_CACHE_ATTRIBUTE = "_crm_api_roles"


def roles_of(user: Any) -> frozenset[str]:
    """The clinic roles of `user`, read once per user object (one query)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def remember_roles(user: Any, roles: frozenset[str]) -> None:
    """Roles read along with the user (crm.api.authentication): roles_of needs no query."""
    setattr(user, _CACHE_ATTRIBUTE, roles)


def role_label(user: Any) -> str:
    """The user's roles as one stable string for event metadata and the audit."""
    return ",".join(sorted(roles_of(user)))


def may_read_restricted_notes(user: Any) -> bool:
    return CLINICIAN in roles_of(user)


def actor_for(request: Request) -> Actor:
    user = request.user
    return Actor(
        name=user.get_username(),
        channel="api",
        user_id=user.pk,
        role=role_label(user),
    )
