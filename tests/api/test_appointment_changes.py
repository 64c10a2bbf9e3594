"""POST .../appointments/{appointment_id}/reschedule|confirm|cancel|complete|no-show/."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from tests.api.conftest import problem, soon, stream, url

pytestmark = pytest.mark.django_db


def visit(patient, appointment_id, action):
    return url(patient, f"appointments/{appointment_id}/{action}/")


@pytest.fixture
def this_morning(patient, desk):
    """A 9am visit that has started (booked yesterday); returns its id."""
    start = timezone.now() - dt.timedelta(minutes=30)
    result = handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=start,
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
        now=start - dt.timedelta(days=1),
    )
    return result.events[0].event.appointment_id


def test_moving_a_visit_records_the_new_time_and_asks_for_a_new_confirmation(
    agent, patient, booked
):
    agent.post(visit(patient, booked, "confirm"), {"via": "sms"}, format="json")
    new_time = soon(days=9)

    response = agent.post(
        visit(patient, booked, "reschedule"),
        {"starts_at": new_time.isoformat(), "reason": "Work"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["appointment_id"] == str(booked)
    [upcoming] = agent.get(url(patient)).json()["upcoming_appointments"]
    assert upcoming["starts_at"] == new_time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert upcoming["confirmed"] is False


def test_a_confirmation_is_recorded_once(agent, patient, booked):
    first = agent.post(visit(patient, booked, "confirm"), {}, format="json")
    second = agent.post(visit(patient, booked, "confirm"), format="json")

    assert first.status_code == second.status_code == 200
    assert (first.json()["changed"], second.json()["changed"]) == (True, False)
    assert stream(patient).count("AppointmentConfirmed") == 1


def test_a_cancelled_visit_leaves_the_upcoming_list(agent, patient, booked):
    response = agent.post(
        visit(patient, booked, "cancel"),
        {"cancelled_by": "patient", "reason": "Feeling better"},
        format="json",
    )

    assert response.status_code == 200
    assert agent.get(url(patient)).json()["upcoming_appointments"] == []


def test_completing_a_cancelled_visit_is_a_409_with_the_reason(agent, patient, booked):
    agent.post(visit(patient, booked, "cancel"), {"cancelled_by": "clinic"}, format="json")
    etag = agent.get(url(patient))["ETag"]

    response = agent.post(visit(patient, booked, "complete"), {}, format="json", HTTP_IF_MATCH=etag)

    body = problem(response, 409)
    assert body["detail"] == "Cannot complete this appointment: it was cancelled."
    assert body["type"].endswith("/command-refused")
    assert stream(patient)[-1] == "AppointmentCancelled"


def test_a_visit_that_started_can_be_completed_or_marked_no_show(agent, patient, this_morning):
    done = agent.post(visit(patient, this_morning, "complete"), format="json")
    again = agent.post(visit(patient, this_morning, "no-show"), format="json")

    assert done.status_code == 200
    assert problem(again, 409)["detail"].endswith("it is already completed.")


def test_a_no_show_counts_against_the_patient(agent, patient, this_morning):
    response = agent.post(visit(patient, this_morning, "no-show"), format="json")

    assert response.status_code == 200
    assert agent.get(url(patient)).json()["no_show_count"] == 1


def test_a_visit_that_has_not_started_cannot_be_marked_no_show(agent, patient, booked):
    body = problem(agent.post(visit(patient, booked, "no-show"), format="json"), 409)
    assert "before the appointment's start time" in body["detail"]


def test_an_appointment_the_patient_does_not_have_is_a_409_naming_it(agent, patient):
    missing = uuid.uuid4()

    body = problem(agent.post(visit(patient, missing, "confirm"), format="json"), 409)

    assert str(missing) in body["detail"]


def test_complete_takes_no_fields(agent, patient, this_morning):
    body = problem(
        agent.post(visit(patient, this_morning, "complete"), {"outcome": "fine"}, format="json"),
        400,
    )

    assert list(body["errors"]) == ["outcome"]


@pytest.mark.parametrize(
    ("action", "sent", "field"),
    [
        ("reschedule", {}, "starts_at"),
        ("reschedule", {"starts_at": "next Tuesday"}, "starts_at"),
        ("confirm", {"via": "carrier pigeon"}, "via"),
        ("cancel", {"cancelled_by": "doctor"}, "cancelled_by"),
        ("cancel", {}, "cancelled_by"),
    ],
)
def test_a_change_with_a_bad_value_is_a_400_and_records_nothing(
    agent, patient, booked, action, sent, field
):
    before = stream(patient)

    body = problem(agent.post(visit(patient, booked, action), sent, format="json"), 400)

    assert list(body["errors"]) == [field]
    assert stream(patient) == before


def test_a_stale_if_match_on_a_cancellation_is_a_412(agent, patient, booked, desk):
    etag = agent.get(url(patient))["ETag"]
    handlers.appointment_confirm(patient_id=patient, appointment_id=booked, actor=desk)

    response = agent.post(
        visit(patient, booked, "cancel"),
        {"cancelled_by": "patient"},
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert problem(response, 412)["current_version"] == 3
    assert stream(patient)[-1] == "AppointmentConfirmed"


def test_a_key_spent_on_one_appointment_cannot_cancel_another(agent, patient, booked, desk):
    other = (
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.THERAPY,
            starts_at=soon(days=3),
            provider="Dr. Kim",
            location="Telehealth",
            actor=desk,
        )
        .events[0]
        .event.appointment_id
    )
    key = {"HTTP_IDEMPOTENCY_KEY": "cancel-visit"}
    agent.post(visit(patient, booked, "cancel"), {"cancelled_by": "patient"}, format="json", **key)

    response = agent.post(
        visit(patient, other, "cancel"), {"cancelled_by": "patient"}, format="json", **key
    )

    problem(response, 422)
    assert stream(patient).count("AppointmentCancelled") == 1


def test_a_retried_cancellation_answers_as_the_first_time(agent, patient, booked):
    key = {"HTTP_IDEMPOTENCY_KEY": "cancel-visit"}
    first = agent.post(
        visit(patient, booked, "cancel"), {"cancelled_by": "patient"}, format="json", **key
    )
    again = agent.post(
        visit(patient, booked, "cancel"), {"cancelled_by": "patient"}, format="json", **key
    )

    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.json()["appointment_id"] == str(booked)
