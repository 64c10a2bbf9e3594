"""POST /api/v1/patients/{id}/notes/: a note on the record, restricted or not."""

from __future__ import annotations

import pytest

from crm.models import AccessLogEntry
from tests.api.conftest import problem, stream, url

pytestmark = pytest.mark.django_db


def test_a_note_is_added_to_the_timeline(agent, patient):
    response = agent.post(
        url(patient, "notes/"), {"text": "  Prefers a call after 5pm.  "}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["events"][0]["data"]["text"] == "Prefers a call after 5pm."
    assert body["events"][0]["data"]["author"] == "agent.avery"
    assert response["Location"].endswith("/timeline/2/")
    assert stream(patient) == ["PatientRegistered", "NoteAdded"]


def test_a_restricted_note_is_withheld_from_the_agent_who_reads_it(agent, clinician, patient):
    response = clinician.post(
        url(patient, "notes/"),
        {"text": "Mentioned thoughts of self-harm.", "restricted": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["events"][0]["data"]["text"] == "Mentioned thoughts of self-harm."
    entry = agent.get(response["Location"]).json()
    assert entry["data"]["text"] is None
    assert entry["redacted"] is True


@pytest.mark.parametrize("role", ["agent", "front_desk", "supervisor"])
def test_only_a_clinician_writes_a_restricted_note_anyone_else_gets_403_and_nothing_is_kept(
    client_for, patient, role
):
    writer = client_for(f"someone.{role}", role)

    body = problem(
        writer.post(
            url(patient, "notes/"),
            {"text": "Mentioned thoughts of self-harm.", "restricted": True},
            format="json",
        ),
        403,
    )

    assert "Only clinicians" in body["detail"]
    assert body["errors"] == {"restricted": ["is for clinicians only."]}
    assert stream(patient) == ["PatientRegistered"]
    refused = AccessLogEntry.objects.get(patient_id=patient)
    assert (refused.action, refused.outcome, refused.status_code) == ("change", "forbidden", 403)


def test_a_plain_note_from_an_agent_is_still_kept(agent, patient):
    response = agent.post(
        url(patient, "notes/"), {"text": "Prefers texts.", "restricted": False}, format="json"
    )

    assert response.status_code == 201
    assert stream(patient) == ["PatientRegistered", "NoteAdded"]


def test_a_note_of_ten_thousand_characters_is_accepted_and_one_more_is_not(agent, patient):
    assert (
        agent.post(url(patient, "notes/"), {"text": "é" * 10_000}, format="json").status_code == 201
    )

    body = problem(agent.post(url(patient, "notes/"), {"text": "a" * 10_001}, format="json"), 400)
    assert "no more than 10000 characters" in body["errors"]["text"][0]


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": None}, "text"),
        ({}, "text"),
        ({"text": "ok", "restricted": "false"}, "restricted"),
        ({"text": "a\x00b"}, "text"),
        ({"text": "ok", "author": "dr.casey"}, "author"),
    ],
)
def test_a_note_that_cannot_be_kept_is_a_400_and_records_nothing(agent, patient, sent, field):
    body = problem(agent.post(url(patient, "notes/"), sent, format="json"), 400)

    assert field in body["errors"]
    assert stream(patient) == ["PatientRegistered"]
