"""Every value the API takes fits what the read models can hold: text no longer than its
column or form, numbers within their integer columns. A value past its bound is a 400
naming the field, and the patient's stream is untouched."""

from __future__ import annotations

import pytest

from crm.models import Event
from tests.api.conftest import problem, soon, url

pytestmark = pytest.mark.django_db


def events_of(patient) -> int:
    return Event.objects.filter(stream_id=patient).count()


def a_call(**changes):
    return {
        "direction": "inbound",
        "started_at": soon(hours=-1).isoformat(),
        "duration_seconds": 240,
        "disposition": "connected",
        **changes,
    }


def a_booking(**changes):
    return {
        "appointment_type": "follow_up",
        "starts_at": soon(days=7).isoformat(),
        "provider": "Dr. Lee",
        "location": "Main St clinic",
        **changes,
    }


@pytest.mark.parametrize(
    ("tail", "body", "field"),
    [
        ("calls/", a_call(reason="x" * 1001), "reason"),
        ("calls/", a_call(duration_seconds=2**31), "duration_seconds"),
        ("calls/", a_call(hold_seconds=86_401, duration_seconds=86_400), "hold_seconds"),
        ("calls/", a_call(wrap_up_seconds=2**63), "wrap_up_seconds"),
        ("appointments/", a_booking(provider="Dr. " + "L" * 200), "provider"),
        ("appointments/", a_booking(location="x" * 201), "location"),
        ("appointments/", a_booking(duration_minutes=2**63), "duration_minutes"),
        ("notes/", {"text": "x" * 10_001}, "text"),
        (
            "crisis-contacts/",
            {
                "risk_level": "high",
                "handoff": "clinician",
                "safety_plan": "created",
                "summary": "x" * 10_001,
            },
            "summary",
        ),
        (
            "contact-details/",
            {"phone": None, "email": "a" * 250 + "@x.org", "timezone": ""},
            "email",
        ),
        ("contact-details/", {"phone": "617" * 20, "email": "", "timezone": ""}, "phone"),
        (
            "contact-details/",
            {"phone": None, "email": "", "timezone": "America/" + "x" * 60},
            "timezone",
        ),
    ],
)
def test_a_value_past_what_the_record_can_hold_is_a_400_naming_it(
    agent, patient, tail, body, field
):
    before = events_of(patient)

    response = problem(agent.post(url(patient, tail), body, format="json"), 400)

    assert list(response["errors"]) == [field]
    assert events_of(patient) == before


def test_a_cancellation_reason_past_its_bound_is_a_400(front_desk, patient, booked):
    before = events_of(patient)
    cancel = {"cancelled_by": "patient", "reason": "x" * 1001}

    response = problem(
        front_desk.post(url(patient, f"appointments/{booked}/cancel/"), cancel, format="json"),
        400,
    )

    assert list(response["errors"]) == ["reason"]
    assert events_of(patient) == before


def test_a_registration_name_past_the_profile_column_is_a_400(front_desk):
    registration = {
        "first_name": "x" * 201,
        "last_name": "Testpatient",
        "date_of_birth": "1990-04-01",
        "phone": "(617) 555-0142",
    }

    response = problem(front_desk.post("/api/v1/patients/", registration, format="json"), 400)

    assert list(response["errors"]) == ["first_name"]
    assert Event.objects.count() == 0


def test_a_metrics_range_past_the_calendar_is_a_400_not_a_crash(supervisor):
    response = problem(
        supervisor.get("/api/v1/metrics/", {"from": "9999-12-30", "to": "9999-12-31"}), 400
    )

    assert set(response["errors"]) == {"from", "to"}
