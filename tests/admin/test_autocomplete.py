"""The admin's autocomplete endpoint searches only where a form offers it: Django would
answer it for any foreign key to a searchable table, past the list's guard and its audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from crm.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def searchable_foreign_keys() -> list[tuple[str, str, str]]:
    """(app, model, field) of every foreign key whose target table has a search box."""
    registry: dict[Any, Any] = admin.site._registry
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            target = getattr(getattr(field, "remote_field", None), "model", None)
            searchable = target in registry and bool(registry[target].search_fields)
            if getattr(field, "concrete", False) and searchable:
                found.append((model._meta.app_label, str(model._meta.model_name), field.name))
    return found


def test_the_raw_reminders_are_not_searched_by_patient_through_the_autocomplete(staff, patient):
    operator = staff("it.ops", "clinician", superuser=True)
    rowan = patient()
    query = {"app_label": "reminders", "model_name": "outboundmessage", "field_name": "reminder"}

    answer = operator.get(reverse("admin:autocomplete"), {**query, "term": str(rowan)})

    assert answer.status_code == 403
    assert not AccessLogEntry.objects.filter(endpoint__contains="autocomplete").exists()


def test_no_foreign_key_is_searchable_where_no_form_offers_it(staff):
    operator = staff("it.root", "clinician", "supervisor", superuser=True)
    keys = searchable_foreign_keys()

    answers = {
        key: operator.get(
            reverse("admin:autocomplete"),
            {"app_label": key[0], "model_name": key[1], "field_name": key[2], "term": ""},
        ).status_code
        for key in keys
    }

    assert ("reminders", "outboundmessage", "reminder") in keys
    assert answers == dict.fromkeys(keys, 403)
