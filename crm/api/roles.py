"""Roles are Django groups; a user's roles decide what the API shows and allows. The rule
itself, and the actor a person is to a command, live in crm.roles, shared with the admin."""

from __future__ import annotations

from crm.roles import (
    AGENT,
    CLINICIAN,
    FRONT_DESK,
    ROLES,
    SUPERVISOR,
    Area,
    actor_for,
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
