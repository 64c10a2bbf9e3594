"""POST /api/v1/patients/{id}/consents/: the patient says yes (or no more) to messages."""

from __future__ import annotations

import pytest

from tests.api.conftest import problem, stream, url

pytestmark = pytest.mark.django_db

YES_TO_REMINDERS = {
    "channel": "sms",
    "purpose": "appointment_reminders",
    "granted": True,
    "source": "verbal",
}


def _consents(client, patient):
    return {
        (c["channel"], c["purpose"]): c["granted"]
        for c in client.get(url(patient)).json()["consents"]
    }


def test_consent_to_text_reminders_is_recorded(agent, patient):
    response = agent.post(url(patient, "consents/"), YES_TO_REMINDERS, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["changed"] is True
    assert _consents(agent, patient) == {("sms", "appointment_reminders"): True}


def test_consent_given_twice_is_recorded_once(agent, patient):
    agent.post(url(patient, "consents/"), YES_TO_REMINDERS, format="json")

    again = agent.post(url(patient, "consents/"), YES_TO_REMINDERS, format="json")

    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert stream(patient) == ["PatientRegistered", "ConsentRecorded"]


def test_withdrawing_without_a_purpose_stops_every_kind_of_text(agent, patient):
    agent.post(url(patient, "consents/"), YES_TO_REMINDERS, format="json")

    response = agent.post(
        url(patient, "consents/"),
        {"channel": "sms", "granted": False, "source": "verbal"},
        format="json",
    )

    assert response.status_code == 200
    assert set(_consents(agent, patient).values()) == {False}
    assert ("sms", "care_messages") in _consents(agent, patient)


def test_granting_needs_a_purpose(agent, patient):
    body = problem(
        agent.post(url(patient, "consents/"), {**YES_TO_REMINDERS, "purpose": None}, format="json"),
        400,
    )

    assert body["errors"] == {"purpose": ["is required when granting consent."]}


def test_email_consent_without_an_email_on_file_is_a_409_saying_why(agent, patient):
    body = problem(
        agent.post(
            url(patient, "consents/"), {**YES_TO_REMINDERS, "channel": "email"}, format="json"
        ),
        409,
    )

    assert "no email address on file" in body["detail"]
    assert stream(patient) == ["PatientRegistered"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"channel": "fax"}, "channel"), ({"granted": "yes"}, "granted"), ({"source": ""}, "source")],
)
def test_a_bad_consent_value_is_a_400(agent, patient, change, field):
    body = problem(
        agent.post(url(patient, "consents/"), {**YES_TO_REMINDERS, **change}, format="json"), 400
    )

    assert list(body["errors"]) == [field]
