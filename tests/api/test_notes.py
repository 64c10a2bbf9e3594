"""POST /api/v1/patients/{id}/notes/: a note on the record, restricted or not."""

from __future__ import annotations

import pytest

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


def test_a_restricted_note_is_withheld_even_from_the_agent_who_wrote_it(agent, clinician, patient):
    response = agent.post(
        url(patient, "notes/"),
        {"text": "Mentioned thoughts of self-harm.", "restricted": True},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["events"][0]["data"]["text"] is None
    assert response.json()["events"][0]["redacted"] is True
    entry = clinician.get(response["Location"]).json()
    assert entry["data"]["text"] == "Mentioned thoughts of self-harm."


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
