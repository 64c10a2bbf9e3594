"""A time no clinic could mean (.NET's unset 0001-01-01, a booking in 9999) is a 400 naming
the field, with nothing recorded; a time already in a log before these bounds existed is
still shown by the timeline, the screen pop and the supervisor's figures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import InvalidInput
from crm.models import DailyCallStats, Event
from crm.projections import runner
from tests.api.conftest import problem, soon, url
from tests.legacy_times import without_time_bounds

pytestmark = pytest.mark.django_db

DOTNET_UNSET = "0001-01-01T00:00:00Z"


def events_of(patient) -> int:
    return Event.objects.filter(stream_id=patient).count()


def a_call(started_at: str) -> dict[str, object]:
    return {
        "direction": "inbound",
        "started_at": started_at,
        "duration_seconds": 240,
        "disposition": "connected",
    }


@pytest.mark.parametrize(
    ("started_at", "message"),
    [
        (DOTNET_UNSET, "is before 1900; check the year."),
        ("0001-01-01T00:00:00+05:00", "Datetime value out of range."),  # no UTC time at all
        ("1899-12-31T23:59:59Z", "is before 1900; check the year."),
        ("9999-12-31T23:59:59Z", "is after 2199; check the year."),
        ("2199-12-31T23:59:59Z", "is in the future."),
    ],
)
def test_a_call_at_an_impossible_time_is_a_400_naming_started_at(
    agent, patient, started_at, message
):
    before = events_of(patient)

    body = problem(agent.post(url(patient, "calls/"), a_call(started_at), format="json"), 400)

    assert body["errors"] == {"started_at": [message]}
    assert events_of(patient) == before


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        (DOTNET_UNSET, "is before 1900; check the year."),
        ("9999-12-31T23:59:59Z", "is after 2199; check the year."),
        ("2199-12-31T23:59:59Z", "is more than 2 years ahead; check the year."),
    ],
)
def test_a_booking_at_an_impossible_time_is_a_400_naming_starts_at(
    front_desk, patient, starts_at, message
):
    before = events_of(patient)
    booking = {
        "appointment_type": "follow_up",
        "starts_at": starts_at,
        "provider": "Dr. Lee",
        "location": "Main St clinic",
    }

    body = problem(front_desk.post(url(patient, "appointments/"), booking, format="json"), 400)

    assert body["errors"] == {"starts_at": [message]}
    assert events_of(patient) == before


def test_moving_a_visit_three_years_out_is_a_400_naming_starts_at(front_desk, patient, booked):
    before = events_of(patient)
    move = {"starts_at": soon(days=3 * 365).isoformat()}

    body = problem(
        front_desk.post(url(patient, f"appointments/{booked}/reschedule/"), move, format="json"),
        400,
    )

    assert list(body["errors"]) == ["starts_at"]
    assert events_of(patient) == before


@override_settings(APPOINTMENT_HORIZON_DAYS=30)
def test_the_booking_horizon_is_the_clinics_setting(front_desk, patient):
    booking = {
        "appointment_type": "follow_up",
        "starts_at": soon(days=45).isoformat(),
        "provider": "Dr. Lee",
        "location": "Main St clinic",
    }

    body = problem(front_desk.post(url(patient, "appointments/"), booking, format="json"), 400)

    assert body["errors"] == {"starts_at": ["is more than 30 days ahead; check the year."]}


def test_a_birth_dated_year_one_is_a_400_naming_date_of_birth(front_desk):
    registration = {
        "first_name": "Noor",
        "last_name": "Testpatient",
        "date_of_birth": "0001-01-01",
        "phone": "(617) 555-0142",
    }

    body = problem(front_desk.post("/api/v1/patients/", registration, format="json"), 400)

    assert list(body["errors"]) == ["date_of_birth"]
    assert Event.objects.count() == 0


def test_no_door_records_an_event_dated_year_one(patient, desk):
    before = events_of(patient)

    with pytest.raises(InvalidInput) as refused:
        handlers.consent_record(
            patient_id=patient,
            channel=ev.Channel.SMS,
            purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
            source=ev.ConsentSource.VERBAL,
            actor=desk,
            occurred_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        )

    assert refused.value.field == "occurred_at"
    assert events_of(patient) == before


# --- a time already in a log -------------------------------------------------------------


@pytest.fixture(params=["year-1", "year-9999"])
def call_at_the_calendars_edge(request, patient, desk) -> dt.datetime:
    """A call recorded before the bounds existed, at the very start or end of the calendar."""
    started_at = (
        dt.datetime(1, 1, 1, tzinfo=dt.UTC)
        if request.param == "year-1"
        else dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)
    )
    with without_time_bounds():
        handlers.call_log(
            patient_id=patient,
            direction=ev.CallDirection.INBOUND,
            started_at=started_at,
            duration_seconds=60,
            disposition=ev.CallDisposition.CONNECTED,
            reason="Billing question",
            actor=desk,
        )
    return started_at


def test_the_timeline_shows_a_call_stored_at_the_calendars_edge(
    agent, patient, call_at_the_calendars_edge
):
    response = agent.get(url(patient, "timeline/"))

    assert response.status_code == 200, response.content
    call = response.json()["results"][0]
    assert call["occurred_at"] == call_at_the_calendars_edge.isoformat().replace("+00:00", "Z")
    assert "Inbound call, connected: Billing question; by frontdesk.one" in call["summary"]
    assert agent.get(url(patient, "timeline/2/")).status_code == 200


def test_the_screen_pop_still_greets_a_caller_with_such_a_call(
    agent, patient, call_at_the_calendars_edge
):
    response = agent.get("/api/v1/patients/lookup", {"phone": "(617) 555-0134"})

    assert response.status_code == 200, response.content
    assert response.json()["patient"]["patient_id"] == str(patient)
    assert agent.get(url(patient)).status_code == 200


def test_the_figures_count_such_a_call_on_its_stored_day(call_at_the_calendars_edge):
    runner.catch_up_all()

    row = DailyCallStats.objects.get()
    assert (row.day.year, row.calls) == (call_at_the_calendars_edge.year, 1)


def test_the_screen_pop_opens_for_a_visit_stored_on_the_calendars_last_day(agent, patient, desk):
    starts_at = dt.datetime(9999, 12, 31, 23, 50, tzinfo=dt.UTC)  # its end is past the calendar
    with without_time_bounds():
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.FOLLOW_UP,
            starts_at=starts_at,
            provider="Dr. Lee",
            location="Main St clinic",
            actor=desk,
        )

    response = agent.get("/api/v1/patients/lookup", {"phone": "(617) 555-0134"})

    assert response.status_code == 200, response.content
    upcoming = response.json()["patient"]["upcoming_appointments"]
    assert [a["starts_at"] for a in upcoming] == ["9999-12-31T23:50:00Z"]
    assert agent.get(url(patient)).status_code == 200
