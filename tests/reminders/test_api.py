"""GET /api/v1/patients/{id}/reminders/ and GET /api/v1/reminders/: each reminder's state
and, when it is not sent, why; read by clinic staff and recorded in the access audit."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.models import AccessLogEntry
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from tests.reminders.conftest import local
from tests.roles import role_group

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 10, 30)


@pytest.fixture
def agent():
    cache.clear()
    user = User.objects.create_user(username="agent.avery", password="not-a-real-password-42")
    user.groups.add(role_group("agent"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_patients_reminders_show_state_times_and_reasons(clinic, agent):
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.book(patient, local(2026, 11, 5, 10, 0))  # too soon for its 72 h reminder
    clinic.reminders()
    # The dispatcher was down until the 7th: the earlier visit's reminder came up too late.
    dispatch_due(now=VISIT - dt.timedelta(hours=72))

    response = agent.get(f"/api/v1/patients/{patient}/reminders/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    rows = response.json()["results"]
    assert [(r["offset_hours"], r["state"]) for r in rows] == [
        (72, "dropped"),
        (24, "dropped"),
        (72, "sent"),
        (24, "scheduled"),
    ]
    assert rows[0]["reason"] == "The appointment was booked or moved less than 72 hours ahead."
    assert rows[1]["reason"].startswith("Too late: the appointment had already started")
    sent = rows[2]
    assert sent["due_at"] == "2026-11-07T15:30:00Z"
    assert sent["due_at_local"] == "2026-11-07T10:30:00-05:00"
    assert sent["delivery"]["sent_at"] == "2026-11-07T15:30:00Z"
    assert sent["delivery"]["message_id"] is not None
    assert AccessLogEntry.objects.filter(patient_id=patient, outcome="returned").count() == 1


def test_the_clinic_list_filters_by_state_and_due_time(clinic, agent, actor, now):
    willing = clinic.patient()
    unwilling = clinic.patient(phone="(617) 555-0135", consent=False)
    clinic.book(willing, VISIT)
    clinic.book(unwilling, VISIT)
    clinic.reminders()

    blocked = agent.get("/api/v1/reminders/?status=blocked").json()["results"]
    soon = agent.get(
        "/api/v1/reminders/?due_before=2026-11-08T00:00:00Z&patient=" + str(willing)
    ).json()["results"]

    assert {(r["patient_id"], r["reason"]) for r in blocked} == {
        (str(unwilling), "No SMS consent for appointment reminders.")
    }
    assert [(r["patient_id"], r["offset_hours"]) for r in soon] == [(str(willing), 72)]
    audited = set(AccessLogEntry.objects.values_list("patient_id", flat=True))
    assert audited == {willing, unwilling}


def test_a_text_held_by_the_cap_shows_held_with_the_time(clinic, agent):
    parent = clinic.patient()
    child = clinic.patient(first_name="Ash")
    clinic.book(parent, VISIT)
    clinic.book(child, local(2026, 11, 10, 18, 0))
    clinic.reminders()
    dispatch_due(now=VISIT - dt.timedelta(hours=72))
    dispatch_due(now=local(2026, 11, 7, 18, 0))

    held = agent.get("/api/v1/reminders/?status=held").json()["results"]

    assert [(r["patient_id"], r["reason"]) for r in held] == [
        (str(child), "Held by the frequency cap until Sun Nov 8, 10:30 (America/New_York).")
    ]
    assert len(locmem.outbox) == 1


def test_an_unknown_patient_is_a_problem_404(agent):
    response = agent.get(f"/api/v1/patients/{uuid.uuid4()}/reminders/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_bad_filter_is_a_problem_400_naming_it(agent):
    response = agent.get("/api/v1/reminders/?status=lost&due_before=tomorrow")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "due_before"}


def test_anonymous_callers_get_401():
    assert APIClient().get("/api/v1/reminders/").status_code == 401
