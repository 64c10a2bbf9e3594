"""Filters of the read endpoints as a generated client sends them: a filter of several
values repeated or comma-separated, and every value the server cannot apply a 400 that
names the parameter. The patient search also finds a number by its last digits."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from tests.api.conftest import problem, url

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"


@pytest.fixture
def noted(patient, desk, now):
    handlers.note_add(patient_id=patient, text="Prefers mornings.", actor=desk)
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=dt.datetime(2027, 1, 18, 14, 30, tzinfo=dt.UTC),
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
        now=now,
    )
    return patient


def _types(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [entry["type"] for entry in response.json()["results"]]


def test_event_types_repeated_give_what_they_give_comma_separated(agent, noted):
    timeline = url(noted, "timeline/")

    repeated = _types(agent.get(f"{timeline}?type=NoteAdded&type=PatientRegistered"))

    assert repeated == ["NoteAdded", "PatientRegistered"]
    assert repeated == _types(agent.get(f"{timeline}?type=NoteAdded,PatientRegistered"))
    assert _types(agent.get(f"{timeline}?type=NoteAdded,PatientRegistered&type=NoteAdded")) == (
        repeated
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("type=NoteAdded&type=NoteWritten", "type"),
        ("type=", "type"),
        ("type=NoteAdded,,CallLogged", "type"),
        ("occurred_after=yesterday", "occurred_after"),
        ("occurred_after=2026-11-01T00:00:00", "occurred_after"),
        (
            "occurred_before=2026-11-01T00:00:00Z&occurred_before=2026-11-02T00:00:00Z",
            "occurred_before",
        ),
        ("occurred_before=", "occurred_before"),
        ("page_size=0", "page_size"),
        ("page_size=1000", "page_size"),
    ],
)
def test_a_timeline_filter_it_cannot_apply_is_a_400_naming_it(agent, noted, query, parameter):
    body = problem(agent.get(f"{url(noted, 'timeline/')}?{query}"), 400)

    assert list(body["errors"]) == [parameter]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("action=peek", "action"),
        ("patient=someone", "patient"),
        ("since=2026-11-01", "since"),
        ("user=sup.sam&user=agent.avery", "user"),
        ("page_size=501", "page_size"),
    ],
)
def test_an_audit_filter_it_cannot_apply_is_a_400_naming_it(supervisor, query, parameter):
    body = problem(supervisor.get(f"/api/v1/audit/?{query}"), 400)

    assert list(body["errors"]) == [parameter]


def test_a_search_given_twice_is_refused_not_half_read(front_desk, patient):
    body = problem(front_desk.get(f"{PATIENTS}?search=rowan&search=okafor"), 400)

    assert body["errors"] == {"search": ["takes one value; it was given 2."]}


@pytest.mark.parametrize("typed", ["0134", "5-0134", "550134", " 0134 "])
def test_the_last_digits_of_a_number_find_its_owner_as_in_the_admin(front_desk, register, typed):
    rowan = register()
    register(first_name="Ada", last_name="Okafor", phone="(617) 555-0101")

    results = front_desk.get(PATIENTS, {"search": typed}).json()["results"]

    assert [r["patient_id"] for r in results] == [str(rowan)]


def test_too_few_digits_to_mean_a_number_is_a_400_saying_so(front_desk, patient):
    body = problem(front_desk.get(PATIENTS, {"search": "34"}), 400)

    assert "type at least 4 of its last digits" in body["errors"]["search"][0]
