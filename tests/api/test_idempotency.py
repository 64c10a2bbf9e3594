"""Idempotency-Key: a key replays the request it was first sent with, and nothing else.

The trap: a key first spent on a command that changed nothing (confirming a confirmed
visit) must not make a later, different request with the same key look already done.
"""

from __future__ import annotations

import pytest

from crm import handlers
from crm.domain import events as ev
from tests.api.conftest import problem, soon, stream, url

pytestmark = pytest.mark.django_db

KEY = "desk-7:2026-11-03:0001"
REUSED = "/api/problems/idempotency-key-reused"


def _confirm(client, patient, visit, **headers):  # type: ignore[no-untyped-def]
    path = url(patient, f"appointments/{visit}/confirm/")
    return client.post(path, {"via": "voice"}, format="json", **headers)


def _cancel(client, patient, visit, **headers):  # type: ignore[no-untyped-def]
    path = url(patient, f"appointments/{visit}/cancel/")
    return client.post(path, {"cancelled_by": "patient"}, format="json", **headers)


def _note(client, patient, visit, **headers):  # type: ignore[no-untyped-def]
    body = {"text": "Patient asked us to call after 5pm."}
    return client.post(url(patient, "notes/"), body, format="json", **headers)


def _crisis_contact(client, patient, visit, **headers):  # type: ignore[no-untyped-def]
    body = {
        "risk_level": "moderate",
        "handoff": "none",
        "safety_plan": "reviewed",
        "summary": "Caller calmer by the end; agreed to a check-in tomorrow.",
    }
    return client.post(url(patient, "crisis-contacts/"), body, format="json", **headers)


@pytest.mark.parametrize("then", [_cancel, _note, _crisis_contact], ids=lambda f: f.__name__)
def test_a_key_spent_on_a_confirmation_that_changed_nothing_refuses_another_command(
    agent, patient, booked, then
):
    assert _confirm(agent, patient, booked).status_code == 200
    unchanged = _confirm(agent, patient, booked, HTTP_IDEMPOTENCY_KEY=KEY)
    assert unchanged.status_code == 200 and unchanged.json()["changed"] is False
    before = stream(patient)

    body = problem(then(agent, patient, booked, HTTP_IDEMPOTENCY_KEY=KEY), 422)

    assert body["type"] == REUSED
    assert list(body["errors"]) == ["Idempotency-Key"]
    assert stream(patient) == before
    [visit] = agent.get(url(patient)).json()["upcoming_appointments"]
    assert visit["appointment_id"] == str(booked) and visit["confirmed"] is True


def test_the_same_confirmation_sent_again_with_its_key_is_replayed(agent, patient, booked):
    assert _confirm(agent, patient, booked).status_code == 200
    first = _confirm(agent, patient, booked, HTTP_IDEMPOTENCY_KEY=KEY)
    _cancel(agent, patient, booked, HTTP_IDEMPOTENCY_KEY=KEY)

    again = _confirm(agent, patient, booked, HTTP_IDEMPOTENCY_KEY=KEY)

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_a_key_sent_again_to_the_same_endpoint_with_another_body_is_a_422(agent, patient):
    headers = {"HTTP_IDEMPOTENCY_KEY": KEY}
    first = agent.post(
        url(patient, "notes/"), {"text": "Left a voicemail"}, format="json", **headers
    )
    assert first.status_code == 201

    other = agent.post(url(patient, "notes/"), {"text": "Spoke with her"}, format="json", **headers)

    assert problem(other, 422)["type"] == REUSED
    assert stream(patient) == ["PatientRegistered", "NoteAdded"]


def test_a_key_sent_again_for_another_visit_is_a_422(agent, patient, booked, desk):
    follow_up = handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=soon(days=9),
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
    )
    other = follow_up.events[0].event.appointment_id  # type: ignore[attr-defined]
    _confirm(agent, patient, booked, HTTP_IDEMPOTENCY_KEY=KEY)

    body = problem(_confirm(agent, patient, other, HTTP_IDEMPOTENCY_KEY=KEY), 422)

    assert body["type"] == REUSED
    assert stream(patient).count("AppointmentConfirmed") == 1
