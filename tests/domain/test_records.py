"""Lab tests, satisfaction, death and merges; and the guards every command shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from crm.domain import decisions as decide
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.domain.state import PatientState

from .support import (
    APPOINTMENT_ID,
    CALL_ID,
    NOTE_ID,
    NOW,
    PATIENT_ID,
    PHONE,
    SURVIVOR_ID,
    TEST_ID,
    appointment_scheduled,
    crisis_contact_recorded,
    given,
    merged_into,
    patient_deceased,
    patient_registered,
    storable,
)

DUE_BY = dt.date(2026, 12, 1)


def a1c_ordered() -> ev.TestOrdered:
    return ev.TestOrdered(test_id=TEST_ID, test_name="A1C", due_by=DUE_BY, ordered_by="Dr. Okafor")


def order_a1c(state: PatientState, due_by: dt.date = DUE_BY) -> list[ev.DomainEvent]:
    return decide.order_test(
        state, test_id=TEST_ID, test_name="A1C", due_by=due_by, ordered_by="Dr. Okafor", now=NOW
    )


# --- lab tests -------------------------------------------------------------------------------


def test_a_provider_orders_a_lab_test_due_next_month() -> None:
    events = order_a1c(given(patient_registered()))

    assert storable(events) == [a1c_ordered()]


def test_a_test_due_today_can_be_ordered() -> None:
    assert order_a1c(given(patient_registered()), due_by=NOW.date())


def test_it_refuses_a_test_due_in_the_past() -> None:
    with pytest.raises(InvalidInput) as refused:
        order_a1c(given(patient_registered()), due_by=NOW.date() - dt.timedelta(days=1))

    assert refused.value.field == "due_by"
    assert refused.value.detail == "is in the past."


def test_it_refuses_to_order_the_same_test_twice() -> None:
    with pytest.raises(CommandRefused, match=f"Test {TEST_ID} is already ordered"):
        order_a1c(given(patient_registered(), a1c_ordered()))


def test_it_refuses_to_order_a_test_for_a_deceased_patient() -> None:
    with pytest.raises(
        CommandRefused, match="Cannot order a test: the patient is recorded as deceased"
    ):
        order_a1c(given(patient_registered(), patient_deceased()))


def test_a_lab_result_completes_the_ordered_test() -> None:
    events = decide.complete_test(given(patient_registered(), a1c_ordered()), test_id=TEST_ID)

    assert storable(events) == [ev.TestCompleted(test_id=TEST_ID)]


def test_it_refuses_to_complete_a_test_that_was_never_ordered() -> None:
    with pytest.raises(CommandRefused, match=f"The patient has no test {TEST_ID}"):
        decide.complete_test(given(patient_registered()), test_id=TEST_ID)


def test_it_refuses_to_complete_a_test_twice_naming_the_test() -> None:
    state = given(patient_registered(), a1c_ordered(), ev.TestCompleted(test_id=TEST_ID))

    with pytest.raises(CommandRefused, match="A1C is already completed"):
        decide.complete_test(state, test_id=TEST_ID)


# --- satisfaction ----------------------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_a_satisfaction_score_from_one_to_five_is_recorded(score: int) -> None:
    events = decide.record_satisfaction(
        given(patient_registered()), score=score, channel=ev.Channel.SMS, appointment_id=None
    )

    assert storable(events) == [ev.SatisfactionRecorded(score=score, channel=ev.Channel.SMS)]


@pytest.mark.parametrize("score", [0, 6, -1, 10])
def test_it_refuses_a_satisfaction_score_outside_one_to_five(score: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        decide.record_satisfaction(
            given(patient_registered()), score=score, channel=ev.Channel.SMS, appointment_id=None
        )

    assert refused.value.field == "score"
    assert refused.value.detail == "must be from 1 to 5."


def test_a_satisfaction_score_can_be_about_a_visit() -> None:
    state = given(patient_registered(), appointment_scheduled())

    events = decide.record_satisfaction(
        state, score=4, channel=ev.Channel.VOICE, appointment_id=APPOINTMENT_ID
    )

    assert events == [
        ev.SatisfactionRecorded(score=4, channel=ev.Channel.VOICE, appointment_id=APPOINTMENT_ID)
    ]


def test_it_refuses_a_satisfaction_score_about_a_visit_the_patient_never_had() -> None:
    with pytest.raises(CommandRefused, match=f"no appointment {APPOINTMENT_ID}"):
        decide.record_satisfaction(
            given(patient_registered()),
            score=4,
            channel=ev.Channel.SMS,
            appointment_id=APPOINTMENT_ID,
        )


# --- death -----------------------------------------------------------------------------------


def test_a_death_is_recorded_with_its_date() -> None:
    events = decide.mark_deceased(
        given(patient_registered()),
        date_of_death=dt.date(2026, 10, 1),
        recorded_by="frontdesk.one",
        now=NOW,
    )

    assert storable(events) == [
        ev.PatientDeceased(recorded_by="frontdesk.one", date_of_death=dt.date(2026, 10, 1))
    ]


def test_a_death_can_be_recorded_before_its_date_is_known() -> None:
    events = decide.mark_deceased(
        given(patient_registered()), date_of_death=None, recorded_by="frontdesk.one", now=NOW
    )

    assert events == [ev.PatientDeceased(recorded_by="frontdesk.one", date_of_death=None)]


def test_it_refuses_a_date_of_death_in_the_future() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide.mark_deceased(
            given(patient_registered()),
            date_of_death=NOW.date() + dt.timedelta(days=1),
            recorded_by="frontdesk.one",
            now=NOW,
        )

    assert refused.value.field == "date_of_death"
    assert refused.value.detail == "is in the future."


def test_it_refuses_to_record_a_death_twice() -> None:
    with pytest.raises(CommandRefused, match="already recorded as deceased"):
        decide.mark_deceased(
            given(patient_registered(), patient_deceased()),
            date_of_death=None,
            recorded_by="frontdesk.one",
            now=NOW,
        )


# --- merges ----------------------------------------------------------------------------------


def test_merging_a_duplicate_records_both_sides_of_the_merge() -> None:
    survivor = given(patient_registered(), patient_id=SURVIVOR_ID)
    duplicate = given(patient_registered(first_name="Rowen"), patient_id=PATIENT_ID)

    on_survivor, on_duplicate = decide.merge(survivor, duplicate, merged_by="frontdesk.one")

    assert storable(on_survivor) == [
        ev.PatientsMerged(merged_patient_id=PATIENT_ID, merged_by="frontdesk.one")
    ]
    assert storable(on_duplicate) == [
        ev.PatientMergedInto(surviving_patient_id=SURVIVOR_ID, merged_by="frontdesk.one")
    ]


def test_it_refuses_to_merge_a_patient_into_itself() -> None:
    state = given(patient_registered())

    with pytest.raises(CommandRefused, match="Cannot merge a patient into itself"):
        decide.merge(state, state, merged_by="frontdesk.one")


def test_it_refuses_to_merge_a_duplicate_that_was_already_merged_elsewhere() -> None:
    survivor = given(patient_registered(), patient_id=SURVIVOR_ID)
    other_survivor = CALL_ID
    duplicate = given(patient_registered(), merged_into(other_survivor))

    with pytest.raises(CommandRefused, match=f"merged into patient {other_survivor}"):
        decide.merge(survivor, duplicate, merged_by="frontdesk.one")


def test_it_refuses_to_merge_into_a_record_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound, match=str(SURVIVOR_ID)):
        decide.merge(
            given(patient_id=SURVIVOR_ID), given(patient_registered()), merged_by="frontdesk.one"
        )


# --- guards every command shares -------------------------------------------------------------

Command = Callable[[PatientState], object]

COMMANDS: dict[str, Command] = {
    "change demographics": lambda s: decide.change_demographics(
        s,
        first_name="Rowan",
        last_name="Other",
        date_of_birth=dt.date(1984, 5, 17),
        preferred_name="",
        language="en",
        now=NOW,
    ),
    "change contact details": lambda s: decide.change_contact_details(
        s, phone="+13125550199", email="", timezone=""
    ),
    "record consent": lambda s: decide.record_consent(
        s,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.SURVEYS,
        source=ev.ConsentSource.VERBAL,
    ),
    "revoke consent": lambda s: decide.revoke_consent(
        s, channel=ev.Channel.SMS, purpose=None, source=ev.ConsentSource.SMS_KEYWORD
    ),
    "log a call": lambda s: decide.log_call(
        s,
        call_id=CALL_ID,
        direction=ev.CallDirection.OUTBOUND,
        channel=ev.Channel.VOICE,
        agent="agent.one",
        started_at=NOW,
        duration_seconds=60,
        hold_seconds=0,
        wrap_up_seconds=0,
        disposition=ev.CallDisposition.CONNECTED,
        reason="",
        resolved_first_contact=False,
        now=NOW,
    ),
    "add a note": lambda s: decide.add_note(
        s, note_id=NOTE_ID, text="Called back.", author="agent.one", restricted=False
    ),
    "clear the crisis flag": lambda s: decide.clear_crisis_flag(
        s, cleared_by="dr.okafor", reason="Stable."
    ),
    "book": lambda s: decide.schedule_appointment(
        s,
        appointment_id=CALL_ID,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        modality=ev.Modality.IN_PERSON,
        starts_at=NOW + dt.timedelta(days=3),
        duration_minutes=30,
        provider="Dr. Okafor",
        location="Main St clinic",
        now=NOW,
    ),
    "reschedule": lambda s: decide.reschedule_appointment(
        s,
        appointment_id=APPOINTMENT_ID,
        starts_at=NOW + dt.timedelta(days=9),
        reason="",
        now=NOW,
    ),
    "confirm": lambda s: decide.confirm_appointment(
        s, appointment_id=APPOINTMENT_ID, via=ev.Channel.SMS, now=NOW
    ),
    "cancel": lambda s: decide.cancel_appointment(
        s, appointment_id=APPOINTMENT_ID, cancelled_by=ev.CancelledBy.PATIENT, reason=""
    ),
    "complete": lambda s: decide.complete_appointment(
        s, appointment_id=APPOINTMENT_ID, now=NOW + dt.timedelta(days=8)
    ),
    "record a no-show": lambda s: decide.record_no_show(
        s, appointment_id=APPOINTMENT_ID, now=NOW + dt.timedelta(days=8)
    ),
    "order a test": lambda s: decide.order_test(
        s, test_id=NOTE_ID, test_name="Lipid panel", due_by=DUE_BY, ordered_by="Dr. O", now=NOW
    ),
    "complete a test": lambda s: decide.complete_test(s, test_id=TEST_ID),
    "record satisfaction": lambda s: decide.record_satisfaction(
        s, score=5, channel=ev.Channel.SMS, appointment_id=None
    ),
    "mark deceased": lambda s: decide.mark_deceased(
        s, date_of_death=None, recorded_by="frontdesk.one", now=NOW
    ),
    "merge a duplicate into it": lambda s: decide.merge(
        s, given(patient_registered(), patient_id=CALL_ID), merged_by="frontdesk.one"
    ),
    "merge it into another record": lambda s: decide.merge(
        given(patient_registered(), patient_id=CALL_ID), s, merged_by="frontdesk.one"
    ),
}


def _a_full_record(*more: ev.DomainEvent) -> PatientState:
    """A patient against whom every command in COMMANDS would otherwise succeed."""
    return given(
        patient_registered(),
        appointment_scheduled(NOW + dt.timedelta(days=7)),
        a1c_ordered(),
        crisis_contact_recorded(),
        *more,
    )


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_succeeds_on_a_full_record(command: Command) -> None:
    assert command(_a_full_record())


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_commands_on_a_merged_record_are_refused_naming_the_surviving_record(
    command: Command,
) -> None:
    state = _a_full_record(merged_into(SURVIVOR_ID))

    with pytest.raises(CommandRefused) as refused:
        command(state)

    assert refused.value.message == (
        f"This record was merged into patient {SURVIVOR_ID}; use that record."
    )


# A crisis contact is recorded on any registered record, merged or not; never on nothing.
EVERY_COMMAND: dict[str, Command] = {
    **COMMANDS,
    "record a crisis contact": lambda s: decide.record_crisis_contact(
        s,
        crisis_id=CALL_ID,
        risk_level=ev.RiskLevel.LOW,
        handoff=ev.CrisisHandoff.NONE,
        safety_plan=ev.SafetyPlan.NONE,
        agent="crisis.agent",
        summary="",
    ),
}


@pytest.mark.parametrize("command", EVERY_COMMAND.values(), ids=EVERY_COMMAND.keys())
def test_commands_on_a_stream_that_was_never_registered_say_the_patient_is_not_found(
    command: Command,
) -> None:
    with pytest.raises(PatientNotFound) as refused:
        command(given())

    assert refused.value.patient_id == PATIENT_ID
    assert refused.value.message == f"No patient with id {PATIENT_ID}."


def test_registering_on_a_merged_record_is_refused_as_already_registered() -> None:
    with pytest.raises(CommandRefused, match="already registered"):
        decide.register(
            given(patient_registered(), merged_into()),
            first_name="Rowan",
            last_name="Testpatient",
            date_of_birth=dt.date(1984, 5, 17),
            preferred_name="",
            phone=PHONE,
            email="",
            language="en",
            timezone="",
            now=NOW,
        )


def test_a_date_of_death_before_the_date_of_birth_is_refused():
    state = given(
        ev.PatientRegistered(
            first_name="Rowan", last_name="Example", date_of_birth=dt.date(1960, 4, 2)
        )
    )
    with pytest.raises(InvalidInput) as refused:
        decide.mark_deceased(
            state, date_of_death=dt.date(1950, 1, 1), recorded_by="frontdesk", now=NOW
        )
    assert (
        refused.value.field == "date_of_death"
        and "before the date of birth" in refused.value.detail
    )
