"""The four roles exist as groups after `migrate`, each holding the permissions of its areas
and nothing more, and the migration's table is the one the code enforces (crm.roles)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from crm.roles import OPENS, ROLES, permission_codename

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("crm.migrations.0008_clinic_roles")


def held(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrate_creates_the_four_roles_with_the_areas_of_their_row_and_nothing_else():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)
    for role in ROLES:
        assert held(role) == {f"crm.{permission_codename(area)}" for area in OPENS[role]}


def test_the_migration_writes_out_the_table_the_code_enforces():
    assert {role: set(areas) for role, areas in MIGRATION.OPENS.items()} == {
        role: {area.value for area in areas} for role, areas in OPENS.items()
    }
    assert set(MIGRATION.AREAS) == {area.value for areas in OPENS.values() for area in areas}


def test_migrating_takes_back_every_table_permission_the_old_demo_gave_each_role():
    agent = Group.objects.get(name="agent")
    agent.permissions.add(*Permission.objects.filter(codename__startswith="view_"))

    MIGRATION.create_roles(apps, None)

    assert held("agent") == {"crm.open_patients"}


def test_running_the_migration_again_changes_nothing():
    before = {role: held(role) for role in ROLES}

    MIGRATION.create_roles(apps, None)

    assert {role: held(role) for role in ROLES} == before
    assert Group.objects.filter(name__in=ROLES).count() == len(ROLES)
