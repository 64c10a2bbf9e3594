"""The clinic's roles and the one rule of what each may open, read by every admin page and
every API permission alike (docs/roles.md). A role is a Django group of the same name."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from crm.handlers.base import Actor

AGENT = "agent"
FRONT_DESK = "front_desk"
CLINICIAN = "clinician"
SUPERVISOR = "supervisor"
ROLES = (AGENT, FRONT_DESK, CLINICIAN, SUPERVISOR)


class Area(enum.StrEnum):
    """What a page or an endpoint shows. Each admin table and API view names its area."""

    PATIENTS = "patients"  # find, register, the patient page and timeline, the desk's commands
    RESTRICTED_NOTES = "restricted_notes"  # write and read them, clear a crisis flag
    FIGURES = "figures"  # the dashboard, the metrics API, the tables the figures count from
    AUDIT = "audit"  # who read or changed which patient
    PIPELINE = "pipeline"  # projections' checkpoints, lag and parked streams
    OPERATIONS = "operations"  # the raw log, command records, outbox, reminder schedule, jobs


# The rule, in two parts. A user opens the union of their roles' areas. A superuser who
# also holds a clinic role opens the operator's area besides (the raw log, the outbox, the
# jobs: where the system is debugged). Superuser status alone opens no area, and Django's
# model permissions open none (they still govern accounts, tokens and message templates,
# which hold no patient data). Migration 0008 gives each group one permission per area of
# its row, so the Groups page shows this table; tests keep the two equal.
OPENS: Mapping[str, frozenset[Area]] = MappingProxyType(
    {
        AGENT: frozenset({Area.PATIENTS}),
        FRONT_DESK: frozenset({Area.PATIENTS}),
        CLINICIAN: frozenset({Area.PATIENTS, Area.RESTRICTED_NOTES}),
        SUPERVISOR: frozenset({Area.PATIENTS, Area.FIGURES, Area.AUDIT, Area.PIPELINE}),
    }
)
SUPERUSER_WITH_A_ROLE_OPENS = frozenset({Area.OPERATIONS})

_CACHE_ATTRIBUTE = "_crm_api_roles"


def roles_of(user: Any) -> frozenset[str]:
    """The clinic roles of `user`, read once per user object (one query)."""
    if user is None or not user.is_authenticated or not user.is_active:
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


def actor_for(user: Any, *, channel: str) -> Actor:
    """Who a signed-in person is to a command coming through `channel` (api, admin)."""
    return Actor(name=user.get_username(), channel=channel, user_id=user.pk, role=role_label(user))


def may(user: Any, area: Area) -> bool:
    """The access rule, the only one: may `user` open `area` (docs/roles.md)?"""
    roles = roles_of(user)
    if any(area in OPENS[role] for role in roles):
        return True
    return bool(roles) and user.is_superuser and area in SUPERUSER_WITH_A_ROLE_OPENS


def may_read_restricted_notes(user: Any) -> bool:
    return may(user, Area.RESTRICTED_NOTES)


def permission_codename(area: Area) -> str:
    """The Django permission that stands for `area` on a role's group (crm.<codename>)."""
    return f"open_{area.value}"
