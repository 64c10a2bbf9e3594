"""GET /api/v1/patients/{id}/: the profile now, or as it was at a past moment."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.models import AccessLogEntry
from tests.api.conftest import problem, soon, url

pytestmark = pytest.mark.django_db


def test_the_profile_comes_with_its_version_as_etag_and_is_never_cached(agent, patient, booked):
    response = agent.get(url(patient))

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert response["ETag"] == '"2"'
    assert response["Cache-Control"] == "no-store"
    assert body["as_of"] is None
    assert body["next_appointment_at"] == body["upcoming_appointments"][0]["starts_at"]
    assert body["next_appointment_at"].endswith("Z")


def test_an_appointment_that_ended_but_was_never_closed_is_not_upcoming(agent, patient, desk):
    long_ago = timezone.now() - dt.timedelta(days=3)
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=long_ago + dt.timedelta(days=1),
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
        now=long_ago,
    )

    body = agent.get(url(patient)).json()

    assert body["upcoming_appointments"] == []
    assert body["next_appointment_at"] is None


def test_as_of_shows_the_profile_as_the_clinic_knew_it_then(agent, patient, desk):
    before_the_move = timezone.now()
    handlers.contact_details_change(patient_id=patient, phone="(617) 555-0188", actor=desk)

    then = agent.get(url(patient), {"as_of": before_the_move.isoformat()})
    now = agent.get(url(patient))

    assert then.status_code == 200, then.content
    assert then.json()["phone"] == "+16175550134"
    assert then.json()["version"] == 1
    assert then["ETag"] == '"1"'
    assert then.json()["as_of"] == before_the_move.astimezone(dt.UTC).isoformat().replace(
        "+00:00", "Z"
    )
    assert now.json()["phone"] == "+16175550188"
    assert now["ETag"] == '"2"'


def test_as_of_judges_upcoming_visits_against_that_moment(agent, patient, desk):
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.THERAPY,
        starts_at=soon(days=2),
        provider="Dr. Kim",
        location="Telehealth",
        actor=desk,
    )
    booked_at = timezone.now()

    body = agent.get(url(patient), {"as_of": booked_at.isoformat()}).json()

    assert [a["provider"] for a in body["upcoming_appointments"]] == ["Dr. Kim"]


def test_as_of_before_the_registration_is_a_404_that_says_so(agent, patient):
    body = problem(agent.get(url(patient), {"as_of": "2001-01-01T00:00:00Z"}), 404)

    assert "not registered yet" in body["detail"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026-11-03T10:00:00", "UTC offset"),
        ("2026-11-03", "UTC offset"),
        ("yesterday", "ISO 8601"),
        ("2026-11-03T10:00:00 05:00", "%2B"),
    ],
)
def test_an_as_of_that_is_not_a_moment_is_a_400_naming_it(agent, patient, typed, message):
    body = problem(agent.get(url(patient), {"as_of": typed}), 400)

    assert list(body["errors"]) == ["as_of"]
    assert message in body["errors"]["as_of"][0]


def test_an_unknown_patient_is_a_404_naming_the_id(agent):
    missing = uuid.uuid4()

    body = problem(agent.get(url(missing)), 404)

    assert body["patient_id"] == str(missing)
    assert body["type"].endswith("/patient-not-found")


def test_reading_a_profile_takes_three_queries(agent, patient, booked, django_assert_num_queries):
    # the token with its user and roles, the profile, the audit row
    with django_assert_num_queries(3):
        agent.get(url(patient))


def test_every_profile_read_is_audited_with_who_and_from_where(agent, patient):
    agent.get(url(patient), REMOTE_ADDR="10.20.30.40")
    agent.get(url(patient), {"as_of": timezone.now().isoformat()})

    rows = list(AccessLogEntry.objects.order_by("id"))
    assert [(r.patient_id, r.action, r.outcome, r.role) for r in rows] == [
        (patient, "read", "returned", "agent"),
        (patient, "read", "returned", "agent"),
    ]
    assert rows[0].source_address == "10.20.30.40"
    assert rows[0].endpoint == "GET /api/v1/patients/<uuid:patient_id>/"
