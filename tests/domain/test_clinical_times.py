"""Every clinical time within its plausible range: a default like .NET's 0001-01-01 or a
typo in the year is refused naming the field, by the decisions and by the events' own
validation, so no door can record it; a time already stored is still shown."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import pytest

from crm.domain import decisions as decide
from crm.domain import events as ev
from crm.domain import times
from crm.domain.errors import InvalidInput
from crm.domain.events.base import EventDataInvalid, build

from .support import APPOINTMENT_ID, NOW, appointment_scheduled, given, patient_registered

DOTNET_UNSET = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
BOSTON = zoneinfo.ZoneInfo("America/New_York")


def log_call(started_at: dt.datetime) -> list[ev.DomainEvent]:
    return decide.log_call(
        given(patient_registered()),
        call_id=uuid.uuid4(),
        direction=ev.CallDirection.INBOUND,
        channel=ev.Channel.VOICE,
        agent="agent.one",
        started_at=started_at,
        duration_seconds=60,
        hold_seconds=0,
        wrap_up_seconds=0,
        disposition=ev.CallDisposition.CONNECTED,
        reason="",
        resolved_first_contact=False,
        now=NOW,
    )


def book(starts_at: dt.datetime, **more: Any) -> list[ev.DomainEvent]:
    return decide.schedule_appointment(
        given(patient_registered()),
        appointment_id=APPOINTMENT_ID,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        modality=ev.Modality.IN_PERSON,
        starts_at=starts_at,
        duration_minutes=30,
        provider="Dr. Okafor",
        location="Main St clinic",
        now=NOW,
        **more,
    )


# --- times in the past: a call, a death ----------------------------------------------------


@pytest.mark.parametrize(
    "started_at",
    [DOTNET_UNSET, dt.datetime(1899, 12, 31, 23, 59, tzinfo=dt.UTC)],
    ids=["dotnet-unset", "1899"],
)
def test_a_call_before_1900_is_refused_naming_started_at(started_at: dt.datetime) -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(started_at)

    assert refused.value.field == "started_at"
    assert refused.value.detail == "is before 1900; check the year."


def test_a_call_on_the_first_day_of_1900_is_a_call() -> None:
    assert log_call(times.EARLIEST)


def test_a_call_just_inside_the_clock_skew_is_accepted_and_just_past_it_refused() -> None:
    assert log_call(NOW + times.CLOCK_SKEW)

    with pytest.raises(InvalidInput, match="in the future"):
        log_call(NOW + times.CLOCK_SKEW + dt.timedelta(seconds=1))


@pytest.mark.parametrize(
    ("died", "detail"),
    [
        (dt.date(1, 1, 1), "is before 1900; check the year."),
        (NOW.date() + dt.timedelta(days=1), "is in the future."),
    ],
)
def test_a_date_of_death_outside_its_range_is_refused(died: dt.date, detail: str) -> None:
    state = given(patient_registered(date_of_birth=dt.date(1901, 2, 3)))

    with pytest.raises(InvalidInput) as refused:
        decide.mark_deceased(state, date_of_death=died, recorded_by="frontdesk.one", now=NOW)

    assert (refused.value.field, refused.value.detail) == ("date_of_death", detail)


def test_a_patient_born_130_years_ago_is_still_registered_before_1900() -> None:
    born = dt.date(1896, 11, 3)
    events = decide.register(
        given(),
        first_name="Ada",
        last_name="Oldest",
        date_of_birth=born,
        preferred_name="",
        phone=None,
        email="",
        language="en",
        timezone="",
        now=NOW,
    )

    assert build(ev.PatientRegistered, ev.serialize(events[0])) == events[0]


# --- times ahead: an appointment, a test due -------------------------------------------


def test_a_booking_more_than_two_years_ahead_is_refused_naming_starts_at() -> None:
    with pytest.raises(InvalidInput) as refused:
        book(NOW + times.APPOINTMENT_HORIZON + dt.timedelta(minutes=1))

    assert refused.value.field == "starts_at"
    assert refused.value.detail == "is more than 2 years ahead; check the year."


def test_a_booking_at_the_horizon_itself_is_accepted() -> None:
    assert book(NOW + times.APPOINTMENT_HORIZON)


def test_the_horizon_is_the_one_the_clinic_configured() -> None:
    with pytest.raises(InvalidInput, match="more than 30 days ahead"):
        book(NOW + dt.timedelta(days=31), horizon=dt.timedelta(days=30))


def test_a_booking_dated_year_one_is_refused_as_input_not_as_a_past_booking() -> None:
    with pytest.raises(InvalidInput) as refused:
        book(DOTNET_UNSET)

    assert (refused.value.field, refused.value.detail) == (
        "starts_at",
        "is before 1900; check the year.",
    )


def test_moving_a_visit_to_year_9999_is_refused_naming_starts_at() -> None:
    state = given(patient_registered(), appointment_scheduled())

    with pytest.raises(InvalidInput) as refused:
        decide.reschedule_appointment(
            state,
            appointment_id=APPOINTMENT_ID,
            starts_at=dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC),
            reason="",
            now=NOW,
        )

    assert refused.value.field == "starts_at"


def test_a_test_due_beyond_the_horizon_is_refused_naming_due_by() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide.order_test(
            given(patient_registered()),
            test_id=uuid.uuid4(),
            test_name="A1C",
            due_by=dt.date(9999, 12, 31),
            ordered_by="dr.casey",
            now=NOW,
        )

    assert refused.value.field == "due_by"
    assert "check the year" in refused.value.detail


# --- the events' own validation: no door can bypass it -------------------------------


@pytest.mark.parametrize(
    "started_at",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"],
)
def test_an_event_time_outside_the_calendar_window_is_refused_as_event_data(
    started_at: str,
) -> None:
    data = ev.serialize(log_call(NOW - dt.timedelta(hours=1))[0])
    data["started_at"] = started_at

    with pytest.raises(EventDataInvalid) as refused:
        build(ev.CallLogged, data)

    assert refused.value.field == "started_at"
    assert "check the year" in refused.value.detail


def test_an_event_date_before_1800_is_refused_as_event_data() -> None:
    data = ev.serialize(patient_registered())
    data["date_of_birth"] = "0001-01-01"

    with pytest.raises(EventDataInvalid) as refused:
        build(ev.PatientRegistered, data)

    assert refused.value.field == "date_of_birth"


# --- readers: a time at the calendar's edge is shown, never a crash --------------------


@pytest.mark.parametrize(
    "stored",
    [DOTNET_UNSET, dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC)],
    ids=["year-1", "year-9999"],
)
def test_a_time_at_the_calendars_edge_is_shown_as_stored(stored: dt.datetime) -> None:
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")  # east of UTC: 9999-12-31 23:59 overflows
    shown = times.in_zone(stored, BOSTON if stored.year == 1 else tokyo)

    assert shown == stored


def test_an_ordinary_time_is_shown_in_the_zone_asked_for() -> None:
    assert times.in_zone(NOW, BOSTON).hour == 9
