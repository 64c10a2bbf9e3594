"""One rule opens every table of the admin (crm.roles): a role's areas, never Django's view
permission, and never superuser status alone. Walks the whole admin registry, so a table
added tomorrow is held to it too."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.admin_guard import PATIENT_APPS, PATIENT_COLUMNS
from crm.roles import OPENS, Area
from tests.admin.pages import text_of
from tests.roles import role_group

pytestmark = pytest.mark.django_db


def area_tables() -> list[tuple[str, Area]]:
    """(changelist URL, area) of every registered table that holds patient data."""
    registry: dict[Any, Any] = admin.site._registry
    return [
        (reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist"), a.area)
        for m, a in registry.items()
        if a.area is not None
    ]


@pytest.mark.parametrize("role", sorted(OPENS))
def test_each_role_opens_exactly_the_tables_of_its_areas(staff, role):
    person = staff(f"someone.{role}", role)

    opened = {url: person.get(url).status_code for url, _ in area_tables()}

    assert opened == {url: 200 if area in OPENS[role] else 403 for url, area in area_tables()}


def test_an_agent_given_every_view_permission_still_opens_only_the_patients(staff):
    role_group("agent").permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    agent = staff("agent.avery", "agent")

    opened = {url for url, _ in area_tables() if agent.get(url).status_code == 200}

    # The patients' area: the patients, the work queue and the reminders, nothing more.
    assert opened == {url for url, area in area_tables() if area is Area.PATIENTS}
    assert reverse("admin:crm_patientprofile_changelist") in opened
    assert agent.get(reverse("admin:supervisor_dashboard")).status_code == 403


def test_a_superuser_without_a_clinic_role_opens_no_table_of_patient_data(staff, patient):
    root = staff("it.admin", superuser=True)
    patient()

    refused = {url: root.get(url).status_code for url, _ in area_tables()}
    index = text_of(root.get(reverse("admin:index")))

    assert set(refused.values()) == {403}
    for hidden in ("Events", "Outbound messages", "Reminders", "Tasks", "Patient profiles"):
        assert hidden not in index
    assert root.get(reverse("admin:reminders_messagetemplate_changelist")).status_code == 200
    assert root.get(reverse("admin:auth_user_changelist")).status_code == 200


def test_a_superuser_who_holds_a_role_also_opens_the_operators_tables(staff):
    operator = staff("it.frontdesk", "front_desk", superuser=True)

    opened = {area for url, area in area_tables() if operator.get(url).status_code == 200}

    assert opened == {Area.PATIENTS, Area.OPERATIONS}


def test_no_table_with_a_patient_column_is_left_to_djangos_permissions():
    unguarded = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PATIENT_APPS
        and {f.name for f in model._meta.concrete_fields} & {*PATIENT_COLUMNS, "phone", "to"}
        and (model_admin.area is None or model_admin.patient_field is None)
    ]

    assert unguarded == []
