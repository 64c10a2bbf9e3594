"""The patient's state is a fold of their stream: what the agent sees after these events."""

from __future__ import annotations

import dataclasses
import datetime as dt

from crm.domain import events as ev
from crm.domain.state import AppointmentStatus, PatientState, fold

from .support import (
    APPOINTMENT_ID,
    CRISIS_ID,
    NOTE_ID,
    NOW,
    OTHER_APPOINTMENT_ID,
    PATIENT_ID,
    PHONE,
    SURVIVOR_ID,
    TEST_ID,
    appointment_scheduled,
    at,
    call_logged,
    consent_recorded,
    crisis_contact_recorded,
    given,
    merged_into,
    patient_deceased,
    patient_registered,
    recorded,
)

SMS = ev.Channel.SMS
REMINDERS = ev.ConsentPurpose.APPOINTMENT_REMINDERS
SURVEYS = ev.ConsentPurpose.SURVEYS
CARE = ev.ConsentPurpose.CARE_MESSAGES
LAST_MONTH = NOW - dt.timedelta(days=30)
LAST_WEEK = NOW - dt.timedelta(days=7)


# --- registration, demographics, contact details ------------------------------------------


def test_a_stream_with_no_events_is_not_a_registered_patient() -> None:
    state = given()

    assert state.patient_id == PATIENT_ID
    assert not state.registered
    assert state.version == 0
    assert state.last_recorded_at is None


def test_registration_fills_in_who_the_patient_is_and_when_they_joined() -> None:
    state = given(
        at(
            LAST_MONTH,
            patient_registered(
                preferred_name="Ro", language="es", timezone="America/Chicago", email="r@x.org"
            ),
        )
    )

    assert state.registered
    assert state.registered_at == LAST_MONTH
    assert (state.first_name, state.last_name) == ("Rowan", "Testpatient")
    assert state.date_of_birth == dt.date(1984, 5, 17)
    assert state.display_name == "Ro Testpatient"
    assert state.phone == PHONE
    assert state.email == "r@x.org"
    assert state.language == "es"
    assert state.timezone == "America/Chicago"


def test_a_patient_without_a_preferred_name_is_greeted_by_their_first_name() -> None:
    assert given(patient_registered()).display_name == "Rowan Testpatient"


def test_changed_demographics_replace_the_old_ones_and_leave_contact_details_alone() -> None:
    state = given(
        patient_registered(preferred_name="Ro"),
        ev.DemographicsChanged(
            first_name="Rowena",
            last_name="Newname",
            date_of_birth=dt.date(1984, 5, 18),
            language="pt-BR",
        ),
    )

    assert state.display_name == "Rowena Newname"
    assert state.preferred_name == ""
    assert state.date_of_birth == dt.date(1984, 5, 18)
    assert state.language == "pt-BR"
    assert state.phone == PHONE
    assert state.email == "rowan@example.org"


def test_changed_contact_details_replace_phone_email_and_time_zone() -> None:
    state = given(
        patient_registered(),
        ev.ContactDetailsChanged(phone="+13125550199", email="", timezone="America/Chicago"),
    )

    assert state.phone == "+13125550199"
    assert state.email == ""
    assert state.timezone == "America/Chicago"
    assert state.first_name == "Rowan"


def test_a_removed_phone_number_leaves_no_number_on_file() -> None:
    state = given(patient_registered(), ev.ContactDetailsChanged(phone=None))

    assert state.phone is None


# --- consent ---------------------------------------------------------------------------------


def test_recorded_consent_covers_only_that_channel_and_purpose() -> None:
    state = given(
        patient_registered(),
        at(LAST_WEEK, consent_recorded(SMS, REMINDERS, ev.ConsentSource.WRITTEN)),
    )

    assert state.has_consent(SMS, REMINDERS)
    assert not state.has_consent(SMS, SURVEYS)
    assert not state.has_consent(ev.Channel.VOICE, REMINDERS)
    consent = state.consents["sms:appointment_reminders"]
    assert (consent.granted, consent.at, consent.source) == (True, LAST_WEEK, "written")


def test_a_patient_who_never_consented_has_no_consent() -> None:
    assert not given(patient_registered()).has_consent(SMS, REMINDERS)


def test_revoking_one_purpose_keeps_the_others() -> None:
    state = given(
        patient_registered(),
        consent_recorded(SMS, REMINDERS),
        consent_recorded(SMS, SURVEYS),
        ev.ConsentRevoked(channel=SMS, purpose=SURVEYS, source=ev.ConsentSource.VERBAL),
    )

    assert state.has_consent(SMS, REMINDERS)
    assert not state.has_consent(SMS, SURVEYS)


def test_stop_without_a_purpose_revokes_every_purpose_on_that_channel_only() -> None:
    state = given(
        patient_registered(),
        consent_recorded(SMS, REMINDERS),
        consent_recorded(SMS, CARE),
        consent_recorded(ev.Channel.VOICE, REMINDERS),
        at(LAST_WEEK, ev.ConsentRevoked(channel=SMS, source=ev.ConsentSource.SMS_KEYWORD)),
    )

    for purpose in ev.ConsentPurpose:
        assert not state.has_consent(SMS, purpose)
        revoked = state.consents[f"sms:{purpose.value}"]
        assert (revoked.granted, revoked.at, revoked.source) == (False, LAST_WEEK, "sms_keyword")
    assert state.has_consent(ev.Channel.VOICE, REMINDERS)


def test_consent_given_again_after_an_opt_out_counts() -> None:
    state = given(
        patient_registered(),
        consent_recorded(SMS, REMINDERS),
        ev.ConsentRevoked(channel=SMS, source=ev.ConsentSource.SMS_KEYWORD),
        consent_recorded(SMS, REMINDERS, ev.ConsentSource.SMS_KEYWORD),
    )

    assert state.has_consent(SMS, REMINDERS)
    assert not state.has_consent(SMS, CARE)


# --- appointments ----------------------------------------------------------------------------


def test_a_booked_appointment_is_open_and_unconfirmed() -> None:
    starts_at = NOW + dt.timedelta(days=7)
    state = given(patient_registered(), appointment_scheduled(starts_at))

    appointment = state.appointments[APPOINTMENT_ID]
    assert appointment.status is AppointmentStatus.SCHEDULED
    assert appointment.is_open
    assert not appointment.confirmed
    assert appointment.starts_at == starts_at
    assert appointment.appointment_type is ev.AppointmentType.FOLLOW_UP
    assert (appointment.provider, appointment.location) == ("Dr. Okafor", "Main St clinic")
    assert appointment.closed_at is None


def test_open_appointments_are_listed_soonest_first() -> None:
    state = given(
        patient_registered(),
        appointment_scheduled(NOW + dt.timedelta(days=14)),
        appointment_scheduled(NOW + dt.timedelta(days=2), appointment_id=OTHER_APPOINTMENT_ID),
    )

    ids = [a.appointment_id for a in state.open_appointments()]
    assert ids == [OTHER_APPOINTMENT_ID, APPOINTMENT_ID]


def test_a_confirmed_appointment_is_confirmed() -> None:
    state = given(
        patient_registered(),
        appointment_scheduled(),
        ev.AppointmentConfirmed(appointment_id=APPOINTMENT_ID, via=SMS),
    )

    assert state.appointments[APPOINTMENT_ID].confirmed


def test_rescheduling_moves_the_visit_and_asks_for_a_new_confirmation() -> None:
    old = NOW + dt.timedelta(days=7)
    new = NOW + dt.timedelta(days=9)
    state = given(
        patient_registered(),
        appointment_scheduled(old),
        ev.AppointmentConfirmed(appointment_id=APPOINTMENT_ID, via=SMS),
        ev.AppointmentRescheduled(
            appointment_id=APPOINTMENT_ID, starts_at=new, previous_starts_at=old
        ),
    )

    appointment = state.appointments[APPOINTMENT_ID]
    assert appointment.starts_at == new
    assert not appointment.confirmed
    assert appointment.is_open


def test_a_cancelled_appointment_is_closed_when_it_was_cancelled() -> None:
    state = given(
        patient_registered(),
        appointment_scheduled(),
        at(
            LAST_WEEK,
            ev.AppointmentCancelled(
                appointment_id=APPOINTMENT_ID, cancelled_by=ev.CancelledBy.PATIENT
            ),
        ),
    )

    appointment = state.appointments[APPOINTMENT_ID]
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.closed_at == LAST_WEEK
    assert state.open_appointments() == []
    assert state.no_shows == 0


def test_a_completed_visit_is_the_last_visit_of_its_type_and_the_last_contact() -> None:
    visit = NOW - dt.timedelta(days=3)
    state = given(
        patient_registered(),
        at(
            NOW - dt.timedelta(days=20),
            appointment_scheduled(visit, appointment_type=ev.AppointmentType.ANNUAL_WELLNESS),
        ),
        at(visit + dt.timedelta(hours=1), ev.AppointmentCompleted(appointment_id=APPOINTMENT_ID)),
    )

    appointment = state.appointments[APPOINTMENT_ID]
    assert appointment.status is AppointmentStatus.COMPLETED
    assert appointment.closed_at == visit + dt.timedelta(hours=1)
    assert state.last_visit_by_type == {"annual_wellness": visit}
    assert state.last_contact_at == visit


def test_completing_an_older_visit_late_does_not_hide_a_newer_one() -> None:
    older = NOW - dt.timedelta(days=60)
    newer = NOW - dt.timedelta(days=10)
    state = given(
        patient_registered(),
        appointment_scheduled(newer),
        appointment_scheduled(older, appointment_id=OTHER_APPOINTMENT_ID),
        ev.AppointmentCompleted(appointment_id=APPOINTMENT_ID),
        ev.AppointmentCompleted(appointment_id=OTHER_APPOINTMENT_ID),
    )

    assert state.last_visit_by_type == {"follow_up": newer}
    assert state.last_contact_at == newer


def test_a_no_show_closes_the_appointment_and_is_counted() -> None:
    state = given(
        patient_registered(),
        appointment_scheduled(NOW - dt.timedelta(days=9)),
        appointment_scheduled(NOW - dt.timedelta(days=2), appointment_id=OTHER_APPOINTMENT_ID),
        ev.AppointmentNoShowRecorded(appointment_id=APPOINTMENT_ID),
        ev.AppointmentNoShowRecorded(appointment_id=OTHER_APPOINTMENT_ID),
    )

    assert state.no_shows == 2
    assert state.appointments[APPOINTMENT_ID].status is AppointmentStatus.NO_SHOW
    assert state.open_appointments() == []
    assert state.last_visit_by_type == {}
    assert state.last_contact_at is None


# --- tests, notes, calls, texts ------------------------------------------------------------


def test_an_ordered_lab_test_is_pending_until_completed() -> None:
    ordered = given(
        patient_registered(),
        at(
            LAST_WEEK,
            ev.TestOrdered(
                test_id=TEST_ID,
                test_name="A1C",
                due_by=dt.date(2026, 12, 1),
                ordered_by="Dr. Okafor",
            ),
        ),
    )
    completed = given(
        patient_registered(),
        at(
            LAST_WEEK,
            ev.TestOrdered(
                test_id=TEST_ID,
                test_name="A1C",
                due_by=dt.date(2026, 12, 1),
                ordered_by="Dr. Okafor",
            ),
        ),
        at(NOW, ev.TestCompleted(test_id=TEST_ID)),
    )

    test = ordered.tests[TEST_ID]
    assert (test.test_name, test.due_by, test.ordered_at) == (
        "A1C",
        dt.date(2026, 12, 1),
        LAST_WEEK,
    )
    assert test.completed_at is None
    assert completed.tests[TEST_ID].completed_at == NOW


def test_notes_are_counted() -> None:
    state = given(
        patient_registered(),
        ev.NoteAdded(note_id=NOTE_ID, text="Prefers mornings.", author="frontdesk.one"),
        ev.NoteAdded(note_id=NOTE_ID, text="Uses a walker.", author="frontdesk.one"),
    )

    assert state.notes == 2


def test_a_connected_call_is_the_last_contact_at_the_time_the_call_started() -> None:
    started = NOW - dt.timedelta(days=2)
    state = given(patient_registered(), at(NOW, call_logged(started)))

    assert state.calls == 1
    assert state.last_contact_at == started


def test_calls_that_never_reached_the_patient_are_counted_but_are_not_contact() -> None:
    state = given(
        patient_registered(),
        call_logged(LAST_WEEK, ev.CallDisposition.VOICEMAIL),
        call_logged(LAST_WEEK, ev.CallDisposition.NO_ANSWER),
        call_logged(LAST_WEEK, ev.CallDisposition.WRONG_NUMBER),
    )

    assert state.calls == 3
    assert state.last_contact_at is None


def test_a_call_logged_late_does_not_move_the_last_contact_back() -> None:
    state = given(
        patient_registered(),
        call_logged(NOW - dt.timedelta(days=1)),
        call_logged(NOW - dt.timedelta(days=20)),
    )

    assert state.last_contact_at == NOW - dt.timedelta(days=1)


def test_a_text_from_the_patient_is_contact_but_a_text_to_them_is_not() -> None:
    sent = given(
        patient_registered(),
        at(LAST_WEEK, ev.SmsSent(message_id=NOTE_ID, to=PHONE, body="Reminder", purpose=REMINDERS)),
    )
    received = given(
        patient_registered(),
        at(LAST_WEEK, ev.SmsReceived(message_id=NOTE_ID, from_number=PHONE, body="C")),
    )

    assert sent.last_contact_at is None
    assert received.last_contact_at == LAST_WEEK


# --- crisis ----------------------------------------------------------------------------------


def test_a_crisis_contact_opens_the_crisis_flag_and_is_contact() -> None:
    state = given(
        patient_registered(),
        at(LAST_WEEK, crisis_contact_recorded(ev.RiskLevel.IMMINENT)),
    )

    assert state.crisis_open
    assert state.crisis_contacts == 1
    assert state.last_crisis is not None
    assert state.last_crisis.crisis_id == CRISIS_ID
    assert state.last_crisis.at == LAST_WEEK
    assert state.last_crisis.risk_level is ev.RiskLevel.IMMINENT
    assert state.last_crisis.handoff is ev.CrisisHandoff.CLINICIAN
    assert state.last_crisis.safety_plan is ev.SafetyPlan.CREATED
    assert state.last_contact_at == LAST_WEEK


def test_clearing_the_crisis_flag_keeps_the_crisis_history() -> None:
    state = given(
        patient_registered(),
        crisis_contact_recorded(ev.RiskLevel.MODERATE),
        crisis_contact_recorded(ev.RiskLevel.LOW),
        ev.CrisisFlagCleared(cleared_by="dr.okafor", reason="Stable at follow-up."),
    )

    assert not state.crisis_open
    assert state.crisis_contacts == 2
    assert state.last_crisis is not None
    assert state.last_crisis.risk_level is ev.RiskLevel.LOW


# --- end of a record -------------------------------------------------------------------------


def test_a_deceased_patient_is_marked_with_the_date_of_death() -> None:
    state = given(patient_registered(), patient_deceased())

    assert state.deceased
    assert state.date_of_death == dt.date(2026, 10, 1)


def test_a_surviving_record_remembers_the_duplicates_merged_into_it() -> None:
    state = given(
        patient_registered(),
        ev.PatientsMerged(merged_patient_id=PATIENT_ID, merged_by="frontdesk.one"),
        ev.PatientsMerged(merged_patient_id=TEST_ID, merged_by="frontdesk.one"),
        patient_id=SURVIVOR_ID,
    )

    assert state.merged_from == [PATIENT_ID, TEST_ID]
    assert state.merged_into is None


def test_a_duplicate_record_points_to_the_record_it_was_merged_into() -> None:
    state = given(patient_registered(), merged_into(SURVIVOR_ID))

    assert state.merged_into == SURVIVOR_ID


# --- versions and replay ---------------------------------------------------------------------


def test_the_state_knows_the_version_and_time_of_the_last_event_it_saw() -> None:
    stream = recorded(
        patient_registered(),
        appointment_scheduled(),
        at(LAST_WEEK, ev.SatisfactionRecorded(score=5, channel=SMS)),
    )

    state = fold(PATIENT_ID, stream)

    assert state.version == 3
    assert state.last_recorded_at == LAST_WEEK + dt.timedelta(seconds=2)


def test_events_with_nothing_to_change_still_advance_the_version() -> None:
    baseline = given(patient_registered())

    state = given(
        patient_registered(),
        ev.SuggestionDismissed(
            suggestion_id="annual:1", kind="annual_due", reason="Booked elsewhere", agent="a"
        ),
        ev.SmsDelivered(message_id=NOTE_ID),
    )

    assert state.version == 3
    assert (
        dataclasses.replace(state, version=1, last_recorded_at=baseline.last_recorded_at)
        == baseline
    )


def test_replaying_the_same_history_gives_the_same_patient() -> None:
    stream = recorded(
        patient_registered(),
        consent_recorded(),
        appointment_scheduled(NOW - dt.timedelta(days=3)),
        call_logged(NOW - dt.timedelta(days=4)),
        ev.AppointmentCompleted(appointment_id=APPOINTMENT_ID),
        crisis_contact_recorded(),
    )

    all_at_once = fold(PATIENT_ID, stream)
    one_at_a_time = PatientState(patient_id=PATIENT_ID)
    for item in stream:
        one_at_a_time.apply(item)

    assert all_at_once == fold(PATIENT_ID, stream)
    assert all_at_once == one_at_a_time


def test_folding_part_of_the_history_shows_the_patient_as_they_were_then() -> None:
    stream = recorded(
        patient_registered(),
        appointment_scheduled(),
        ev.AppointmentCancelled(appointment_id=APPOINTMENT_ID, cancelled_by=ev.CancelledBy.CLINIC),
    )

    as_of_booking = fold(PATIENT_ID, stream[:2])

    assert as_of_booking.version == 2
    assert as_of_booking.appointments[APPOINTMENT_ID].is_open
    assert not fold(PATIENT_ID, stream).appointments[APPOINTMENT_ID].is_open
