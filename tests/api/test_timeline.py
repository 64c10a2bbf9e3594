"""GET /api/v1/patients/{id}/timeline/: what happened to the patient, newest first."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.models import AccessLogEntry
from tests.api.conftest import problem, url


@pytest.fixture
def history(patient, desk, now):
    """Rowan's last week: a call, a restricted note from the crisis line, a booking."""
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=dt.datetime(2026, 11, 2, 14, 30, tzinfo=dt.UTC),
        duration_seconds=185,
        disposition=ev.CallDisposition.CONNECTED,
        reason="Asked about a refill",
        resolved_first_contact=True,
        actor=desk,
    )
    handlers.note_add(
        patient_id=patient,
        text="Disclosed trouble sleeping since the accident.",
        restricted=True,
        actor=handlers.Actor(name="crisis.jo", channel="api", role="agent"),
    )
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=dt.datetime(2028, 1, 18, 14, 30, tzinfo=dt.UTC),
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
        now=now,
    )
    return patient


pytestmark = pytest.mark.django_db


def test_the_timeline_is_newest_first_with_summary_author_and_times(agent, history):
    response = agent.get(url(history, "timeline/"))

    assert response.status_code == 200
    entries = response.json()["results"]
    assert [e["type"] for e in entries] == [
        "AppointmentScheduled",
        "NoteAdded",
        "CallLogged",
        "PatientRegistered",
    ]
    booking, _, call, registration = entries
    # Shown in the patient's zone (their 617 number puts them in Boston), in the words
    # the admin's timeline uses for the same event (crm.timeline describes both).
    assert booking["summary"] == (
        "Booked: follow-up, Tue Jan 18, 2028, 9:30 AM EST; in person with Dr. Lee "
        "at Main St clinic, 30 min"
    )
    assert call["summary"] == (
        "Inbound call, connected: Asked about a refill; by frontdesk.one, talk 3 min 05 s, "
        "resolved on first contact"
    )
    assert call["occurred_at"] == "2026-11-02T14:30:00Z"
    assert call["recorded_by"] == {
        "name": "frontdesk.one",
        "role": "front_desk",
        "channel": "admin",
    }
    assert registration["summary"] == (
        "Registered Rowan Testpatient, born May 17, 1984: (617) 555-0134"
    )


def test_an_agent_sees_that_a_restricted_note_exists_but_not_its_text(agent, history):
    note = agent.get(url(history, "timeline/"), {"type": "NoteAdded"}).json()["results"][0]

    assert note["redacted"] is True
    assert note["data"]["text"] is None
    assert note["summary"] == "Restricted note (clinicians only) by crisis.jo"
    assert "sleeping" not in str(note)


def test_a_clinician_reads_the_restricted_note(clinician, history):
    note = clinician.get(url(history, "timeline/"), {"type": "NoteAdded"}).json()["results"][0]

    assert note["redacted"] is False
    assert note["data"]["text"] == "Disclosed trouble sleeping since the accident."
    assert "trouble sleeping" in note["summary"]


def test_the_screen_pop_hides_the_restricted_note_too(agent, clinician, history):
    def note_of(client):
        pop = client.get("/api/v1/patients/lookup", {"phone": "6175550134"}).json()
        return next(e for e in pop["recent_timeline"] if e["type"] == "NoteAdded")

    assert note_of(agent)["data"]["text"] is None
    assert note_of(clinician)["data"]["text"].startswith("Disclosed")


def test_the_timeline_filters_by_type_and_by_when_it_happened(agent, history):
    calls_and_bookings = agent.get(
        url(history, "timeline/"), {"type": "CallLogged,AppointmentScheduled"}
    ).json()["results"]
    assert [e["type"] for e in calls_and_bookings] == ["AppointmentScheduled", "CallLogged"]

    on_the_second = agent.get(
        url(history, "timeline/"),
        {
            "occurred_after": "2026-11-02T00:00:00-05:00",
            "occurred_before": "2026-11-03T00:00:00-05:00",
        },
    ).json()["results"]
    assert [e["type"] for e in on_the_second] == ["CallLogged"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "CallMade"}, "type"),
        ({"occurred_after": "2026-11-02"}, "occurred_after"),
        ({"occurred_before": "last week"}, "occurred_before"),
        ({"sort": "oldest"}, "sort"),
    ],
)
def test_a_filter_that_cannot_be_understood_is_a_400(agent, history, params, field):
    body = problem(agent.get(url(history, "timeline/"), params), 400)

    assert list(body["errors"]) == [field]


def test_the_timeline_pages_with_cursors_that_carry_no_patient_data(agent, patient, desk):
    for n in range(30):
        handlers.note_add(patient_id=patient, text=f"Called back about the bill ({n})", actor=desk)

    first = agent.get(url(patient, "timeline/"), {"page_size": 20}).json()
    second = agent.get(first["next"]).json()

    versions = [e["version"] for e in first["results"] + second["results"]]
    assert versions == list(range(31, 0, -1))
    assert second["next"] is None
    assert "bill" not in first["next"]


def test_one_entry_is_addressable_by_its_version(agent, history):
    response = agent.get(url(history, "timeline/2/"))

    assert response.status_code == 200
    assert response.json()["type"] == "CallLogged"
    problem(agent.get(url(history, "timeline/99/")), 404)
    problem(agent.get(url(history, "timeline/99999999999999999999999/")), 404)


def test_the_timeline_of_nobody_is_a_404(agent):
    problem(agent.get(url(uuid.uuid4(), "timeline/")), 404)


def test_a_page_of_timeline_takes_a_bounded_number_of_queries(
    agent, patient, desk, django_assert_max_num_queries
):
    for n in range(40):
        handlers.note_add(patient_id=patient, text=f"note {n}", actor=desk)

    # token, roles, profile, page, audit row
    with django_assert_max_num_queries(5):
        assert len(agent.get(url(patient, "timeline/")).json()["results"]) == 25


def test_reading_the_timeline_is_audited(agent, history):
    agent.get(url(history, "timeline/"))

    row = AccessLogEntry.objects.get()
    assert (row.patient_id, row.action, row.outcome) == (history, "read", "returned")
    assert row.at <= timezone.now()


def test_every_kind_of_event_reads_as_a_sentence_of_its_own():
    from crm.domain.events import registered_types
    from crm.timeline import described_types

    assert set(registered_types().values()) <= set(described_types())
