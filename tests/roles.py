"""The clinic's role groups as migration crm 0008 made them, for tests that sign people in."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from crm.roles import ROLES


def role_group(name: str) -> Group:
    """The group of a clinic role. A transactional test's flush empties every table, the
    migration's rows included; the migration's own function puts them back then."""
    assert name in ROLES, name
    group = Group.objects.filter(name=name).first()
    if group is None:
        migration = importlib.import_module("crm.migrations.0008_clinic_roles")
        migration.create_roles(apps, None)
        group = Group.objects.get(name=name)
    return group
