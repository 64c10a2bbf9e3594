"""Booking, moving, confirming, cancelling and closing appointments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crm.domain import decisions as decide
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.domain.state import PatientState

from .support import (
    APPOINTMENT_ID,
    NOW,
    OTHER_APPOINTMENT_ID,
    appointment_scheduled,
    given,
    patient_deceased,
    patient_registered,
    storable,
)

NEXT_WEEK = NOW + dt.timedelta(days=7)
IN_TEN_DAYS = NOW + dt.timedelta(days=10)
AN_HOUR_AGO = NOW - dt.timedelta(hours=1)


def schedule(state: PatientState, **overrides: Any) -> list[ev.DomainEvent]:
    values: dict[str, Any] = {
        "appointment_id": APPOINTMENT_ID,
        "appointment_type": ev.AppointmentType.THERAPY,
        "modality": ev.Modality.TELEHEALTH,
        "starts_at": NEXT_WEEK,
        "duration_minutes": 50,
        "provider": " Dr. Okafor ",
        "location": " Video visit ",
        "now": NOW,
    }
    values.update(overrides)
    return decide.schedule_appointment(state, **values)


def booked(starts_at: dt.datetime = NEXT_WEEK, *more: ev.DomainEvent) -> PatientState:
    """A registered patient with one appointment, then whatever else happened."""
    return given(patient_registered(), appointment_scheduled(starts_at), *more)


def cancelled(by: ev.CancelledBy = ev.CancelledBy.PATIENT) -> ev.AppointmentCancelled:
    return ev.AppointmentCancelled(appointment_id=APPOINTMENT_ID, cancelled_by=by)


def confirmed() -> ev.AppointmentConfirmed:
    return ev.AppointmentConfirmed(appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS)


def completed() -> ev.AppointmentCompleted:
    return ev.AppointmentCompleted(appointment_id=APPOINTMENT_ID)


def no_show() -> ev.AppointmentNoShowRecorded:
    return ev.AppointmentNoShowRecorded(appointment_id=APPOINTMENT_ID)


# --- booking ---------------------------------------------------------------------------------


def test_a_telehealth_therapy_session_is_booked() -> None:
    events = schedule(given(patient_registered()))

    assert storable(events) == [
        ev.AppointmentScheduled(
            appointment_id=APPOINTMENT_ID,
            appointment_type=ev.AppointmentType.THERAPY,
            modality=ev.Modality.TELEHEALTH,
            starts_at=NEXT_WEEK,
            duration_minutes=50,
            provider="Dr. Okafor",
            location="Video visit",
        )
    ]


def test_it_refuses_to_book_for_a_deceased_patient() -> None:
    with pytest.raises(CommandRefused) as refused:
        schedule(given(patient_registered(), patient_deceased()))

    assert refused.value.message == (
        "Cannot book an appointment: the patient is recorded as deceased."
    )


@pytest.mark.parametrize("starts_at", [AN_HOUR_AGO, NOW])
def test_it_refuses_to_book_in_the_past(starts_at: dt.datetime) -> None:
    with pytest.raises(CommandRefused, match="Cannot book an appointment in the past"):
        schedule(given(patient_registered()), starts_at=starts_at)


def test_it_refuses_to_book_the_same_appointment_twice() -> None:
    with pytest.raises(CommandRefused, match=f"Appointment {APPOINTMENT_ID} already exists"):
        schedule(booked())


def test_a_second_appointment_can_be_booked_alongside_the_first() -> None:
    events = schedule(booked(), appointment_id=OTHER_APPOINTMENT_ID)

    assert [type(e) for e in events] == [ev.AppointmentScheduled]


@pytest.mark.parametrize("minutes", [0, 4, 481, -30])
def test_it_refuses_an_appointment_length_outside_five_minutes_to_eight_hours(
    minutes: int,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        schedule(given(patient_registered()), duration_minutes=minutes)

    assert refused.value.field == "duration_minutes"
    assert refused.value.detail == "must be between 5 and 480 minutes."


@pytest.mark.parametrize("minutes", [5, 480])
def test_the_shortest_and_longest_appointments_can_be_booked(minutes: int) -> None:
    assert schedule(given(patient_registered()), duration_minutes=minutes)


def test_it_refuses_to_book_for_a_patient_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound):
        schedule(given())


# --- rescheduling ----------------------------------------------------------------------------


def test_a_rescheduled_appointment_remembers_the_time_it_moved_from() -> None:
    events = decide.reschedule_appointment(
        booked(), appointment_id=APPOINTMENT_ID, starts_at=IN_TEN_DAYS, reason=" Sick ", now=NOW
    )

    assert storable(events) == [
        ev.AppointmentRescheduled(
            appointment_id=APPOINTMENT_ID,
            starts_at=IN_TEN_DAYS,
            previous_starts_at=NEXT_WEEK,
            reason="Sick",
        )
    ]


def test_a_missed_appointment_that_was_never_closed_can_be_moved_to_next_week() -> None:
    events = decide.reschedule_appointment(
        booked(AN_HOUR_AGO), appointment_id=APPOINTMENT_ID, starts_at=NEXT_WEEK, reason="", now=NOW
    )

    assert [type(e) for e in events] == [ev.AppointmentRescheduled]


def test_it_refuses_to_reschedule_for_a_deceased_patient() -> None:
    state = booked(NEXT_WEEK, patient_deceased())

    with pytest.raises(CommandRefused, match="Cannot reschedule an appointment: the patient is"):
        decide.reschedule_appointment(
            state, appointment_id=APPOINTMENT_ID, starts_at=IN_TEN_DAYS, reason="", now=NOW
        )


@pytest.mark.parametrize("starts_at", [AN_HOUR_AGO, NOW])
def test_it_refuses_to_reschedule_into_the_past(starts_at: dt.datetime) -> None:
    with pytest.raises(CommandRefused, match="Cannot reschedule an appointment into the past"):
        decide.reschedule_appointment(
            booked(), appointment_id=APPOINTMENT_ID, starts_at=starts_at, reason="", now=NOW
        )


def test_it_refuses_to_reschedule_to_the_time_it_already_has() -> None:
    with pytest.raises(CommandRefused, match="already at that time"):
        decide.reschedule_appointment(
            booked(), appointment_id=APPOINTMENT_ID, starts_at=NEXT_WEEK, reason="", now=NOW
        )


def test_it_refuses_to_reschedule_a_cancelled_appointment() -> None:
    with pytest.raises(CommandRefused) as refused:
        decide.reschedule_appointment(
            booked(NEXT_WEEK, cancelled()),
            appointment_id=APPOINTMENT_ID,
            starts_at=IN_TEN_DAYS,
            reason="",
            now=NOW,
        )

    assert refused.value.message == "Cannot reschedule this appointment: it was cancelled."


def test_it_refuses_to_reschedule_an_appointment_the_patient_does_not_have() -> None:
    with pytest.raises(CommandRefused, match=f"no appointment {OTHER_APPOINTMENT_ID}"):
        decide.reschedule_appointment(
            booked(), appointment_id=OTHER_APPOINTMENT_ID, starts_at=IN_TEN_DAYS, reason="", now=NOW
        )


# --- confirming ------------------------------------------------------------------------------


def test_a_patient_replying_c_confirms_the_appointment() -> None:
    events = decide.confirm_appointment(
        booked(), appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS, now=NOW
    )

    assert storable(events) == [
        ev.AppointmentConfirmed(appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS)
    ]


def test_confirming_an_already_confirmed_appointment_records_nothing() -> None:
    state = booked(NEXT_WEEK, confirmed())

    assert (
        decide.confirm_appointment(
            state, appointment_id=APPOINTMENT_ID, via=ev.Channel.VOICE, now=NOW
        )
        == []
    )


def test_a_rescheduled_appointment_needs_confirming_again() -> None:
    state = booked(
        NEXT_WEEK,
        confirmed(),
        ev.AppointmentRescheduled(
            appointment_id=APPOINTMENT_ID, starts_at=IN_TEN_DAYS, previous_starts_at=NEXT_WEEK
        ),
    )

    events = decide.confirm_appointment(
        state, appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS, now=NOW
    )

    assert events == [ev.AppointmentConfirmed(appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS)]


def test_it_refuses_to_confirm_an_appointment_that_has_already_started() -> None:
    with pytest.raises(CommandRefused, match="already started"):
        decide.confirm_appointment(
            booked(AN_HOUR_AGO), appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS, now=NOW
        )


def test_it_refuses_to_confirm_a_cancelled_appointment() -> None:
    with pytest.raises(CommandRefused, match="Cannot confirm this appointment: it was cancelled"):
        decide.confirm_appointment(
            booked(NEXT_WEEK, cancelled()),
            appointment_id=APPOINTMENT_ID,
            via=ev.Channel.SMS,
            now=NOW,
        )


# --- cancelling ------------------------------------------------------------------------------


def test_the_clinic_cancels_an_appointment_saying_why() -> None:
    events = decide.cancel_appointment(
        booked(),
        appointment_id=APPOINTMENT_ID,
        cancelled_by=ev.CancelledBy.CLINIC,
        reason=" Provider ill ",
    )

    assert storable(events) == [
        ev.AppointmentCancelled(
            appointment_id=APPOINTMENT_ID,
            cancelled_by=ev.CancelledBy.CLINIC,
            reason="Provider ill",
        )
    ]


def test_the_appointments_of_a_deceased_patient_can_be_cancelled() -> None:
    events = decide.cancel_appointment(
        booked(NEXT_WEEK, patient_deceased()),
        appointment_id=APPOINTMENT_ID,
        cancelled_by=ev.CancelledBy.CLINIC,
        reason="Patient deceased",
    )

    assert [type(e) for e in events] == [ev.AppointmentCancelled]


@pytest.mark.parametrize(
    ("closing", "wording"),
    [
        (cancelled(), "it was cancelled"),
        (completed(), "it is already completed"),
        (no_show(), "it was marked as a no-show"),
    ],
)
def test_it_refuses_to_cancel_an_appointment_that_is_already_closed(
    closing: ev.DomainEvent, wording: str
) -> None:
    with pytest.raises(CommandRefused) as refused:
        decide.cancel_appointment(
            booked(AN_HOUR_AGO, closing),
            appointment_id=APPOINTMENT_ID,
            cancelled_by=ev.CancelledBy.PATIENT,
            reason="",
        )

    assert refused.value.message == f"Cannot cancel this appointment: {wording}."


# --- completing and no-shows -----------------------------------------------------------------


def test_a_visit_that_has_started_is_completed() -> None:
    events = decide.complete_appointment(
        booked(AN_HOUR_AGO), appointment_id=APPOINTMENT_ID, now=NOW
    )

    assert storable(events) == [ev.AppointmentCompleted(appointment_id=APPOINTMENT_ID)]


def test_a_visit_starting_within_the_clock_skew_can_be_completed() -> None:
    state = booked(NOW + dt.timedelta(minutes=4))

    assert decide.complete_appointment(state, appointment_id=APPOINTMENT_ID, now=NOW)


def test_it_refuses_to_complete_an_appointment_that_has_not_started() -> None:
    with pytest.raises(CommandRefused, match="has not started yet"):
        decide.complete_appointment(
            booked(NOW + dt.timedelta(hours=1)), appointment_id=APPOINTMENT_ID, now=NOW
        )


def test_it_refuses_to_complete_a_cancelled_appointment() -> None:
    with pytest.raises(CommandRefused) as refused:
        decide.complete_appointment(
            booked(AN_HOUR_AGO, cancelled()), appointment_id=APPOINTMENT_ID, now=NOW
        )

    assert refused.value.message == "Cannot complete this appointment: it was cancelled."


def test_it_refuses_to_complete_a_no_show() -> None:
    with pytest.raises(CommandRefused, match="it was marked as a no-show"):
        decide.complete_appointment(
            booked(AN_HOUR_AGO, no_show()), appointment_id=APPOINTMENT_ID, now=NOW
        )


def test_it_refuses_to_complete_a_visit_twice() -> None:
    with pytest.raises(CommandRefused, match="it is already completed"):
        decide.complete_appointment(
            booked(AN_HOUR_AGO, completed()), appointment_id=APPOINTMENT_ID, now=NOW
        )


def test_a_patient_who_did_not_come_is_marked_as_a_no_show() -> None:
    events = decide.record_no_show(booked(AN_HOUR_AGO), appointment_id=APPOINTMENT_ID, now=NOW)

    assert storable(events) == [ev.AppointmentNoShowRecorded(appointment_id=APPOINTMENT_ID)]


def test_it_refuses_a_no_show_before_the_appointment_starts() -> None:
    with pytest.raises(CommandRefused, match="before the appointment's start time"):
        decide.record_no_show(
            booked(NOW + dt.timedelta(minutes=1)), appointment_id=APPOINTMENT_ID, now=NOW
        )


def test_it_refuses_a_no_show_for_a_completed_visit() -> None:
    with pytest.raises(CommandRefused, match="Cannot mark this appointment as a no-show"):
        decide.record_no_show(
            booked(AN_HOUR_AGO, completed()), appointment_id=APPOINTMENT_ID, now=NOW
        )


def test_it_refuses_a_no_show_for_an_appointment_the_patient_does_not_have() -> None:
    with pytest.raises(CommandRefused, match=f"no appointment {OTHER_APPOINTMENT_ID}"):
        decide.record_no_show(booked(AN_HOUR_AGO), appointment_id=OTHER_APPOINTMENT_ID, now=NOW)
