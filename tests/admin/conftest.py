"""Fixtures for the admin: staff signed in by role, and a clinic day's patients made
through the command handlers (never by writing read-model rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from tests.roles import role_group


@pytest.fixture
def staff(db: None):  # type: ignore[no-untyped-def]
    """A signed-in admin client for a user with the given clinic roles (groups)."""

    def make(username: str, *roles: str, superuser: bool = False) -> Client:
        user = User.objects.create_user(
            username=username, password="not-a-real-password-42", is_staff=True
        )
        if superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        for role in roles:
            user.groups.add(role_group(role))
        client = Client()
        client.force_login(user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def desk(staff):  # type: ignore[no-untyped-def]
    return staff("frontdesk", "front_desk")


@pytest.fixture
def clinician(staff):  # type: ignore[no-untyped-def]
    return staff("dr.ashdale", "clinician")


@pytest.fixture
def supervisor(staff):  # type: ignore[no-untyped-def]
    return staff("supervisor", "supervisor")


@pytest.fixture
def clinic_now() -> dt.datetime:
    """The admin reads the real clock, so its patients live around the real today."""
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def patient(clinic_now):  # type: ignore[no-untyped-def]
    """Register a patient through the handler a year ago; returns their id."""

    def make(**overrides: Any) -> uuid.UUID:
        values: dict[str, Any] = {
            "first_name": "Rowan",
            "last_name": "Quillbrook",
            "date_of_birth": dt.date(1984, 5, 17),
            "phone": "(617) 555-0134",
            "actor": Actor(name="frontdesk.alder", channel="fixture", role="front_desk"),
            "now": clinic_now,
            "occurred_at": clinic_now - dt.timedelta(days=365),
        }
        values.update(overrides)
        return handlers.patient_register(**values).patient_id

    return make


@pytest.fixture
def book(clinic_now):  # type: ignore[no-untyped-def]
    """Book a visit for a patient through the handler; returns the appointment id."""

    def make(patient_id: uuid.UUID, *, in_days: float = 3, **overrides: Any) -> uuid.UUID:
        appointment_id = uuid.uuid4()
        values: dict[str, Any] = {
            "patient_id": patient_id,
            "appointment_type": ev.AppointmentType.FOLLOW_UP,
            "starts_at": clinic_now + dt.timedelta(days=in_days),
            "provider": "Dr. Priya Fernhurst",
            "location": "Main Street Clinic, 2nd floor",
            "actor": Actor(name="frontdesk.birch", channel="fixture", role="front_desk"),
            "appointment_id": appointment_id,
            "now": clinic_now - dt.timedelta(days=30),
        }
        values.update(overrides)
        handlers.appointment_schedule(**values)
        return appointment_id

    return make


@pytest.fixture
def notes_extensions(monkeypatch):  # type: ignore[no-untyped-def]
    """A patient-page panel and a patient-list count registered the way engagement and
    reminders register theirs (crm.extensions), each costing exactly one query."""
    from django.db.models import Count

    from crm import extensions
    from crm.models import Event

    def panel(patient_id: uuid.UUID, zone_name: str, now: dt.datetime) -> extensions.Panel:
        notes = list(
            Event.objects.filter(stream_id=patient_id, event_type="NoteAdded")
            .order_by("-version")
            .values_list("data", flat=True)[:3]
        )
        return extensions.Panel(
            title="Latest notes (test panel)",
            headers=("Note", "Restricted"),
            rows=[(n["text"], "yes" if n["restricted"] else "no") for n in notes],
            tones=["warning" if n["restricted"] else "" for n in notes],
            empty="No notes on file.",
        )

    def count(ids, now):  # type: ignore[no-untyped-def]
        rows = (
            Event.objects.filter(stream_id__in=ids, event_type="NoteAdded")
            .values("stream_id")
            .annotate(n=Count("position"))
            .order_by()
        )
        return {row["stream_id"]: row["n"] for row in rows}

    monkeypatch.setitem(
        extensions._PANELS, "test-notes", extensions.PatientPanel("test-notes", 99, panel)
    )
    monkeypatch.setitem(
        extensions._COUNTS, "test-notes", extensions.PatientCount("test-notes", "Notes", count)
    )
