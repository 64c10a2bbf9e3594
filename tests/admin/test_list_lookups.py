"""No admin list can be filtered through the URL on anything its filters do not offer: a
restricted note's text cannot be guessed letter by letter from the raw log, and no list
anywhere filters or searches on an event's data."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.urls import reverse

from crm import handlers
from crm.handlers import Actor
from crm.models import AccessLogEntry, Event

pytestmark = pytest.mark.django_db

THERAPIST = Actor(name="lee.brightmoor", channel="admin", role="clinician")
EVENTS = reverse("admin:crm_event_changelist")


@pytest.fixture
def disclosed(patient):  # type: ignore[no-untyped-def]
    rowan = patient()
    handlers.note_add(
        patient_id=rowan, text="Disclosed a past overdose.", restricted=True, actor=THERAPIST
    )
    return rowan


@pytest.fixture
def everyone(staff):  # type: ignore[no-untyped-def]
    """Someone who opens every table: all four roles, and a superuser for the accounts."""
    return staff("it.everyone", "agent", "front_desk", "clinician", "supervisor", superuser=True)


@pytest.mark.parametrize("prefix", ["D", "Disclosed a past", "X"])
def test_nobody_learns_a_restricted_notes_text_by_filtering_the_raw_log(
    staff, everyone, disclosed, prefix
):
    people = [
        staff("agent.avery", "agent"),
        staff("frontdesk", "front_desk"),
        staff("supervisor", "supervisor"),
        staff("it.admin", superuser=True),
        staff("it.operator", "supervisor", superuser=True),
        everyone,
    ]

    answers = [
        person.get(EVENTS, {"data__text__startswith": prefix}).status_code for person in people
    ]

    assert answers == [403, 403, 403, 403, 400, 400]
    assert not AccessLogEntry.objects.exists()


def test_the_raw_log_still_filters_by_event_type_and_the_page_is_audited(everyone, disclosed):
    listed = everyone.get(EVENTS, {"event_type": "NoteAdded"})

    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == list(
        Event.objects.filter(event_type="NoteAdded")
    )
    row = AccessLogEntry.objects.get()
    assert (row.username, row.patient_id, row.outcome) == ("it.everyone", disclosed, "listed")


def registered_lists() -> list[tuple[str, Any]]:
    registry: dict[Any, Any] = admin.site._registry
    return [
        (reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist"), a)
        for m, a in registry.items()
    ]


def unoffered_lookup(model_admin: Any) -> str:
    """A lookup on the model's own first field that no filter of the list offers."""
    json_fields = [f for f in model_admin.model._meta.concrete_fields if _is_json(f)]
    field = (json_fields or model_admin.model._meta.concrete_fields)[0]
    return f"{field.name}__startswith" if not _is_json(field) else f"{field.name}__text__startswith"


def test_every_admin_list_refuses_any_lookup_its_filters_do_not_offer(everyone):
    answers = {
        url: everyone.get(url, {unoffered_lookup(model_admin): "a"}).status_code
        for url, model_admin in registered_lists()
    }
    unknown = {url: everyone.get(url, {"nonsense": "1"}).status_code for url, _ in answers.items()}

    assert set(answers.values()) == {400}, answers
    assert set(unknown.values()) == {400}, unknown


def test_every_admin_list_still_opens_and_filters_as_offered(everyone, disclosed):
    plain = {url: everyone.get(url).status_code for url, _ in registered_lists()}
    offered = {
        "admin:crm_patientprofile_changelist": {"crisis_flag__exact": "0", "q": "Quillbrook"},
        "admin:crm_dailycallstats_changelist": {"day__year": "2026", "channel": "voice"},
        "admin:reminders_outboundmessage_changelist": {"status__exact": "sent"},
        "admin:crm_event_changelist": {"event_type": "NoteAdded", "q": str(disclosed)},
    }

    assert set(plain.values()) == {200}, plain
    for name, query in offered.items():
        assert everyone.get(reverse(name), query).status_code == 200, name


def test_no_admin_list_filters_searches_or_sorts_on_json_data():
    reaching_json = []
    for _, model_admin in registered_lists():
        paths = [f[0] if isinstance(f, (list, tuple)) else f for f in model_admin.list_filter]
        paths += [s.lstrip("^=@") for s in model_admin.search_fields]
        paths += [model_admin.date_hierarchy] if model_admin.date_hierarchy else []
        columns = [c for c in model_admin.list_display if isinstance(c, str)]
        paths += [c for c in columns if _field_path(model_admin.model, c)]
        for path in paths:
            if not isinstance(path, str):
                continue  # a filter class of the admin's own (SimpleListFilter)
            fields = _field_path(model_admin.model, path)
            if any(_is_json(field) for field in fields):
                reaching_json.append(f"{model_admin.model._meta.label}: {path}")

    assert reaching_json == []


def _field_path(model: type[models.Model], path: str) -> list[Any]:
    try:
        return list(get_fields_from_path(model, path))
    except Exception:  # not a field: a column the admin computes
        return []


def _is_json(field: Any) -> bool:
    return isinstance(field, models.JSONField)
