"""GET /api/v1/patients/{id}/reminders/ and GET /api/v1/reminders/: each reminder's state
and, when it is not sent, why; read by clinic staff and recorded in the access audit."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.models import AccessLogEntry
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from tests.api.conftest import _answers_follow_the_schema  # noqa: F401  (autouse)
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
        (str(child), "Held by the frequency cap until Sun Nov 8, 2026, 10:30 AM EST.")
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


def _due(rows):
    return [r["due_at"] for r in rows]


def test_the_clinic_list_is_upcoming_by_default_soonest_first(clinic, agent, actor):
    patient = clinic.patient()
    today = timezone.now().replace(microsecond=0)
    later, sooner = today + dt.timedelta(days=20), today + dt.timedelta(days=9)
    clinic.book(patient, later, at=today)
    clinic.book(patient, sooner, at=today)
    clinic.book(patient, VISIT)  # November's visit: its reminders are history by now
    clinic.reminders()
    for hours_before in (72, 24):  # each went out on its day, at 10:30 in New York
        dispatch_due(now=VISIT - dt.timedelta(hours=hours_before))

    upcoming = agent.get("/api/v1/reminders/").json()["results"]
    history = agent.get("/api/v1/reminders/?when=past").json()["results"]
    everything = agent.get("/api/v1/reminders/?when=all").json()["results"]

    assert _due(upcoming) == sorted(_due(upcoming))
    assert len(upcoming) == 4
    assert [r["appointment_starts_at"][:10] for r in upcoming] == [
        sooner.date().isoformat(),
        sooner.date().isoformat(),
        later.date().isoformat(),
        later.date().isoformat(),
    ]
    assert {r["appointment_starts_at"] for r in history} == {"2026-11-10T15:30:00Z"}
    assert {r["state"] for r in history} == {"sent"}
    assert _due(everything) == sorted(_due(history) + _due(upcoming))


def test_a_reminder_due_already_but_not_gone_is_still_upcoming(clinic, agent):
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.reminders()  # never dispatched: both November reminders are still to go

    upcoming = agent.get("/api/v1/reminders/").json()["results"]

    assert [(r["offset_hours"], r["state"]) for r in upcoming] == [
        (72, "scheduled"),
        (24, "scheduled"),
    ]
    assert agent.get("/api/v1/reminders/?when=past").json()["results"] == []


def test_states_repeated_list_the_same_as_comma_separated(clinic, agent):
    willing = clinic.patient()
    unwilling = clinic.patient(phone="(617) 555-0135", consent=False)
    clinic.book(willing, VISIT)
    clinic.book(unwilling, VISIT)
    clinic.reminders()

    repeated = agent.get("/api/v1/reminders/?status=blocked&status=scheduled").json()
    commas = agent.get("/api/v1/reminders/?status=blocked,scheduled").json()

    assert repeated["results"] == commas["results"]
    assert sorted(r["state"] for r in repeated["results"]) == [
        "blocked",
        "blocked",
        "scheduled",
        "scheduled",
    ]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=sent&status=posted", "status"),
        ("when=tomorrow", "when"),
        ("due_before=2026-11-08", "due_before"),
        ("due_after=2026-11-08T00:00:00", "due_after"),
        ("due_before=2026-11-08T00:00:00Z&due_before=2026-11-09T00:00:00Z", "due_before"),
        ("patient=", "patient"),
    ],
)
def test_a_filter_value_the_list_cannot_apply_is_a_400_naming_it(agent, query, parameter):
    response = agent.get(f"/api/v1/reminders/?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [parameter]
