"""Logging calls and notes, and the crisis line's contacts and flag."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crm.domain import decisions as decide
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.domain.state import PatientState

from .support import (
    CALL_ID,
    CRISIS_ID,
    NOTE_ID,
    NOW,
    crisis_contact_recorded,
    given,
    merged_into,
    patient_deceased,
    patient_registered,
    storable,
)

TEN_MINUTES_AGO = NOW - dt.timedelta(minutes=10)


def log_call(state: PatientState, **overrides: Any) -> list[ev.DomainEvent]:
    values: dict[str, Any] = {
        "call_id": CALL_ID,
        "direction": ev.CallDirection.INBOUND,
        "channel": ev.Channel.VOICE,
        "agent": "agent.one",
        "started_at": TEN_MINUTES_AGO,
        "duration_seconds": 300,
        "hold_seconds": 45,
        "wrap_up_seconds": 60,
        "disposition": ev.CallDisposition.CONNECTED,
        "reason": "  Wants to book a follow-up ",
        "resolved_first_contact": True,
        "now": NOW,
    }
    values.update(overrides)
    return decide.log_call(state, **values)


def record_crisis_contact(state: PatientState) -> list[ev.DomainEvent]:
    return decide.record_crisis_contact(
        state,
        crisis_id=CRISIS_ID,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.MOBILE_CRISIS_TEAM,
        safety_plan=ev.SafetyPlan.REVIEWED,
        agent="crisis.agent",
        summary="  Caller in distress; mobile team dispatched. ",
    )


# --- calls -----------------------------------------------------------------------------------


def test_an_answered_call_resolved_on_first_contact_is_logged_with_its_times() -> None:
    events = log_call(given(patient_registered()))

    assert storable(events) == [
        ev.CallLogged(
            call_id=CALL_ID,
            direction=ev.CallDirection.INBOUND,
            channel=ev.Channel.VOICE,
            agent="agent.one",
            started_at=TEN_MINUTES_AGO,
            duration_seconds=300,
            hold_seconds=45,
            wrap_up_seconds=60,
            disposition=ev.CallDisposition.CONNECTED,
            reason_code=ev.OTHER_REASON,  # words from no list: an "other" reason
            reason="Wants to book a follow-up",
            resolved_first_contact=True,
        )
    ]


def test_a_call_from_the_family_of_a_deceased_patient_is_still_logged() -> None:
    assert log_call(given(patient_registered(), patient_deceased()))


def test_a_call_starting_a_minute_ahead_of_the_server_clock_is_accepted() -> None:
    assert log_call(given(patient_registered()), started_at=NOW + dt.timedelta(minutes=1))


def test_it_refuses_a_call_that_starts_in_the_future() -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), started_at=NOW + dt.timedelta(hours=1))

    assert refused.value.field == "started_at"
    assert refused.value.detail == "is in the future."


@pytest.mark.parametrize("field", ["duration_seconds", "hold_seconds", "wrap_up_seconds"])
def test_it_refuses_a_negative_call_time(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), **{field: -1})

    assert refused.value.field == field
    assert refused.value.detail == "must not be negative."


@pytest.mark.parametrize("field", ["duration_seconds", "wrap_up_seconds"])
def test_it_refuses_a_call_time_over_a_day(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), **{field: 24 * 3600 + 1})

    assert refused.value.field == field
    assert refused.value.detail == "must be at most 24 hours."


def test_a_call_of_exactly_a_day_is_accepted() -> None:
    assert log_call(given(patient_registered()), duration_seconds=24 * 3600)


def test_it_refuses_more_time_on_hold_than_the_call_lasted() -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), duration_seconds=60, hold_seconds=61)

    assert refused.value.field == "hold_seconds"
    assert "must not exceed duration_seconds" in refused.value.detail


@pytest.mark.parametrize(
    "disposition",
    [ev.CallDisposition.VOICEMAIL, ev.CallDisposition.NO_ANSWER, ev.CallDisposition.MISSED],
)
def test_it_refuses_first_contact_resolution_for_a_call_that_never_connected(
    disposition: ev.CallDisposition,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), disposition=disposition)

    assert refused.value.field == "resolved_first_contact"
    assert "only be true for a call that connected" in refused.value.detail


def test_a_voicemail_left_unresolved_is_logged() -> None:
    (event,) = log_call(
        given(patient_registered()),
        disposition=ev.CallDisposition.VOICEMAIL,
        resolved_first_contact=False,
        hold_seconds=0,
    )

    assert isinstance(event, ev.CallLogged)
    assert event.disposition is ev.CallDisposition.VOICEMAIL
    assert not event.resolved_first_contact


def test_it_refuses_to_log_a_call_for_a_patient_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound):
        log_call(given())


# --- notes -----------------------------------------------------------------------------------


def test_a_restricted_clinical_note_is_recorded_as_restricted() -> None:
    events = decide.add_note(
        given(patient_registered()),
        note_id=NOTE_ID,
        text="  Discussed medication change. \n",
        author="dr.okafor",
        restricted=True,
    )

    assert storable(events) == [
        ev.NoteAdded(
            note_id=NOTE_ID,
            text="Discussed medication change.",
            author="dr.okafor",
            restricted=True,
        )
    ]


def test_it_refuses_a_blank_note() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide.add_note(
            given(patient_registered()), note_id=NOTE_ID, text=" \n ", author="a", restricted=False
        )

    assert refused.value.field == "text"
    assert refused.value.detail == "must not be blank."


# --- crisis ----------------------------------------------------------------------------------


def test_a_crisis_contact_is_recorded_with_risk_handoff_and_safety_plan() -> None:
    events = record_crisis_contact(given(patient_registered()))

    assert storable(events) == [
        ev.CrisisContactRecorded(
            crisis_id=CRISIS_ID,
            risk_level=ev.RiskLevel.HIGH,
            handoff=ev.CrisisHandoff.MOBILE_CRISIS_TEAM,
            safety_plan=ev.SafetyPlan.REVIEWED,
            agent="crisis.agent",
            summary="Caller in distress; mobile team dispatched.",
        )
    ]


def test_a_crisis_contact_is_recorded_even_for_a_patient_recorded_as_deceased() -> None:
    events = record_crisis_contact(given(patient_registered(), patient_deceased()))

    assert [type(e) for e in events] == [ev.CrisisContactRecorded]


def test_a_crisis_contact_is_recorded_even_on_a_merged_record() -> None:
    events = record_crisis_contact(given(patient_registered(), merged_into()))

    assert [type(e) for e in events] == [ev.CrisisContactRecorded]


def test_a_crisis_contact_needs_a_registered_patient() -> None:
    with pytest.raises(PatientNotFound):
        record_crisis_contact(given())


def test_a_clinician_clears_an_open_crisis_flag_saying_why() -> None:
    state = given(patient_registered(), crisis_contact_recorded())

    events = decide.clear_crisis_flag(state, cleared_by="dr.okafor", reason=" Stable at follow-up ")

    assert storable(events) == [
        ev.CrisisFlagCleared(cleared_by="dr.okafor", reason="Stable at follow-up")
    ]


def test_it_refuses_to_clear_a_crisis_flag_that_is_not_open() -> None:
    with pytest.raises(CommandRefused, match="no open crisis flag to clear"):
        decide.clear_crisis_flag(given(patient_registered()), cleared_by="dr.okafor", reason="ok")


def test_it_refuses_to_clear_a_crisis_flag_twice() -> None:
    state = given(
        patient_registered(),
        crisis_contact_recorded(),
        ev.CrisisFlagCleared(cleared_by="dr.okafor", reason="Stable."),
    )

    with pytest.raises(CommandRefused, match="no open crisis flag to clear"):
        decide.clear_crisis_flag(state, cleared_by="dr.okafor", reason="Again.")


def test_it_refuses_to_clear_a_crisis_flag_without_a_reason() -> None:
    state = given(patient_registered(), crisis_contact_recorded())

    with pytest.raises(InvalidInput) as refused:
        decide.clear_crisis_flag(state, cleared_by="dr.okafor", reason="  ")

    assert refused.value.field == "reason"
    assert "must say why" in refused.value.detail


# --- the reason, from the clinic's list ------------------------------------------------------

REASONS = {"billing": "Billing or insurance", "refill": "Prescription refill"}


def test_a_listed_reason_is_logged_with_its_code_and_the_lists_words() -> None:
    [event] = log_call(
        given(patient_registered()), reason_code="billing", reason="", reasons=REASONS
    )

    assert isinstance(event, ev.CallLogged)
    assert (event.reason_code, event.reason) == ("billing", "Billing or insurance")


def test_a_listed_reason_keeps_the_agents_own_words_when_given() -> None:
    [event] = log_call(
        given(patient_registered()), reason_code="refill", reason=" Lisinopril ", reasons=REASONS
    )

    assert isinstance(event, ev.CallLogged)
    assert (event.reason_code, event.reason) == ("refill", "Lisinopril")


def test_a_reason_not_on_the_list_is_refused_naming_the_ones_it_has() -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), reason_code="parking", reasons=REASONS)

    assert refused.value.field == "reason_code"
    assert "billing, refill, other" in refused.value.detail


def test_other_needs_the_reason_in_words() -> None:
    with pytest.raises(InvalidInput) as refused:
        log_call(given(patient_registered()), reason_code="other", reason="  ", reasons=REASONS)

    assert refused.value.field == "reason"


def test_a_call_without_any_reason_has_none() -> None:
    [event] = log_call(given(patient_registered()), reason="")

    assert isinstance(event, ev.CallLogged)
    assert (event.reason_code, event.reason) == ("", "")
