"""POST /api/v1/patients/{id}/crisis-contacts/: the crisis line records a contact."""

from __future__ import annotations

import pytest

from crm import handlers
from tests.api.conftest import problem, stream, url

pytestmark = pytest.mark.django_db

CONTACT = {
    "risk_level": "high",
    "handoff": "mobile_crisis_team",
    "safety_plan": "created",
    "summary": "Caller safe at home with sister; team dispatched.",
}


def test_a_crisis_contact_raises_the_flag_the_next_agent_sees(agent, patient):
    response = agent.post(url(patient, "crisis-contacts/"), CONTACT, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["crisis_id"] == response.json()["events"][0]["data"]["crisis_id"]
    profile = agent.get(url(patient)).json()
    assert profile["crisis_flag"] is True
    assert profile["last_crisis"]["handoff"] == "mobile_crisis_team"


def test_a_crisis_contact_is_recorded_even_for_a_record_marked_deceased(agent, patient, desk):
    # A wrong "deceased" mark must never stop a crisis being written down.
    handlers.patient_mark_deceased(patient_id=patient, actor=desk)

    response = agent.post(url(patient, "crisis-contacts/"), CONTACT, format="json")

    assert response.status_code == 201
    assert stream(patient)[-1] == "CrisisContactRecorded"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"risk_level": "severe"}, "risk_level"),
        ({"handoff": None}, "handoff"),
        ({"safety_plan": ["created"]}, "safety_plan"),
        ({"summary": 7}, "summary"),
    ],
)
def test_a_crisis_contact_with_a_bad_value_is_a_400_and_records_nothing(
    agent, patient, change, field
):
    body = problem(
        agent.post(url(patient, "crisis-contacts/"), {**CONTACT, **change}, format="json"), 400
    )

    assert list(body["errors"]) == [field]
    assert stream(patient) == ["PatientRegistered"]
