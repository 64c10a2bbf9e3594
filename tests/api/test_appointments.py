"""POST /api/v1/patients/{id}/appointments/: the agent books a visit during the call."""

from __future__ import annotations

import pytest

from crm import handlers
from tests.api.conftest import problem, soon, stream, url

pytestmark = pytest.mark.django_db


def a_visit(**changes):
    return {
        "appointment_type": "annual_wellness",
        "starts_at": soon(days=10).isoformat(),
        "provider": "Dr. Lee",
        "location": "Main St clinic",
        **changes,
    }


def test_a_booking_shows_up_as_the_next_appointment(agent, patient):
    response = agent.post(url(patient, "appointments/"), a_visit(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/patients/{patient}/timeline/2/"
    assert body["events"][0]["data"]["duration_minutes"] == 30
    assert body["events"][0]["data"]["modality"] == "in_person"
    upcoming = agent.get(url(patient)).json()["upcoming_appointments"]
    assert [a["appointment_id"] for a in upcoming] == [body["appointment_id"]]


def test_a_telehealth_therapy_session_keeps_its_modality_and_length(agent, patient):
    response = agent.post(
        url(patient, "appointments/"),
        a_visit(
            appointment_type="therapy",
            modality="telehealth",
            duration_minutes=50,
            location="Telehealth",
        ),
        format="json",
    )

    assert response.status_code == 201
    upcoming = agent.get(url(patient)).json()["upcoming_appointments"][0]
    assert (upcoming["modality"], upcoming["duration_minutes"]) == ("telehealth", 50)


def test_a_retried_booking_books_once(agent, patient):
    key, visit = {"HTTP_IDEMPOTENCY_KEY": "book-rowan-annual"}, a_visit()
    first = agent.post(url(patient, "appointments/"), visit, format="json", **key)
    again = agent.post(url(patient, "appointments/"), visit, format="json", **key)

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert stream(patient) == ["PatientRegistered", "AppointmentScheduled"]
    assert len(agent.get(url(patient)).json()["upcoming_appointments"]) == 1


def test_booking_in_the_past_is_a_409_saying_why(agent, patient):
    body = problem(
        agent.post(
            url(patient, "appointments/"),
            a_visit(starts_at=soon(days=-1).isoformat()),
            format="json",
        ),
        409,
    )

    assert body["detail"] == "Cannot book an appointment in the past."
    assert stream(patient) == ["PatientRegistered"]


def test_booking_for_a_deceased_patient_is_a_409(agent, patient, desk):
    handlers.patient_mark_deceased(patient_id=patient, actor=desk)

    body = problem(agent.post(url(patient, "appointments/"), a_visit(), format="json"), 409)

    assert "deceased" in body["detail"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"starts_at": "2026-12-01T09:00"}, "starts_at", "UTC offset"),
        ({"starts_at": "2062-12-01T09:00:00-05:00"}, "starts_at", "check the year"),
        ({"starts_at": "9999-12-31T23:59:59-14:00"}, "starts_at", "out of range"),
        ({"appointment_type": "checkup"}, "appointment_type", "annual_wellness"),
        ({"duration_minutes": 2}, "duration_minutes", "greater than or equal to 5"),
        ({"duration_minutes": 600}, "duration_minutes", "less than or equal to 480"),
        ({"location": ""}, "location", "may not be blank"),
        ({"provider": "   "}, "provider", "may not be blank"),
        ({"room": "4B"}, "room", "is not a field"),
    ],
)
def test_a_booking_with_a_bad_value_is_a_400_naming_the_field(
    agent, patient, change, field, message
):
    body = problem(agent.post(url(patient, "appointments/"), a_visit(**change), format="json"), 400)

    assert field in body["errors"], body
    assert message in " ".join(body["errors"][field])
    assert stream(patient) == ["PatientRegistered"]
