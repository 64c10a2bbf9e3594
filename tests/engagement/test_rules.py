"""The rules, without a database: given a patient's history, at this moment, these
suggestions (and how each one ended)."""

from __future__ import annotations

import datetime as dt
import uuid

from crm.domain import events as ev
from engagement.domain.config import RuleConfig
from engagement.domain.suggestions import Kind, Status
from tests.domain.support import At
from tests.engagement.support import (
    CONFIG,
    NOW,
    PATIENT_ID,
    appointment_of,
    at,
    booked,
    call,
    crisis,
    days,
    evaluation,
    hours,
    of_kind,
    one,
    open_kinds,
    text,
)

INBOUND = ev.CallDirection.INBOUND
OUTBOUND = ev.CallDirection.OUTBOUND
C = ev.CallDisposition


# --- annual wellness ---------------------------------------------------------------------


def _annual_visit(attended: dt.datetime) -> list[At]:
    visit = booked(attended - days(30), attended, ev.AppointmentType.ANNUAL_WELLNESS)
    done = at(attended + hours(1), ev.AppointmentCompleted(appointment_id=appointment_of(visit)))
    return [visit, done]


def test_an_annual_visit_is_due_a_year_after_the_last_one():
    result = evaluation(*_annual_visit(NOW - days(370)))

    due = [s for s in of_kind(result, Kind.ANNUAL_WELLNESS) if s.status is Status.OPEN]
    assert len(due) == 1
    assert due[0].opened_at == NOW - days(370) + days(365)
    assert "last one" in due[0].reason and "none booked" in due[0].reason


def test_no_annual_visit_is_suggested_within_twelve_months_of_the_last():
    result = evaluation(*_annual_visit(NOW - days(200)))

    assert Kind.ANNUAL_WELLNESS not in open_kinds(result)
    assert result.next_change_at == NOW - days(200) + days(365)


def test_booking_the_annual_visit_closes_the_suggestion_by_itself():
    visit = booked(NOW - hours(2), NOW + days(20), ev.AppointmentType.ANNUAL_WELLNESS)

    result = evaluation(*_annual_visit(NOW - days(400)), visit)

    closed = [s for s in of_kind(result, Kind.ANNUAL_WELLNESS) if s.opened_at > NOW - days(40)]
    assert closed[0].status is Status.DONE
    assert closed[0].closed_by == "rule"
    assert closed[0].closed_at == NOW - hours(2)
    assert "booked" in closed[0].closed_reason


def test_a_cancelled_annual_booking_brings_the_suggestion_back():
    visit = booked(NOW - days(3), NOW + days(20), ev.AppointmentType.ANNUAL_WELLNESS)
    cancel = at(
        NOW - days(1),
        ev.AppointmentCancelled(
            appointment_id=appointment_of(visit), cancelled_by=ev.CancelledBy.PATIENT
        ),
    )

    result = evaluation(visit, cancel)

    assert one(result, Kind.ANNUAL_WELLNESS).status is Status.OPEN


# --- visit follow-ups --------------------------------------------------------------------


def _attended(kind: ev.AppointmentType, starts_at: dt.datetime) -> list[At]:
    visit = booked(starts_at - days(10), starts_at, kind)
    return [
        visit,
        at(starts_at + hours(1), ev.AppointmentCompleted(appointment_id=appointment_of(visit))),
    ]


def test_a_psychiatry_visit_calls_for_a_follow_up_after_the_configured_delay():
    history = _attended(ev.AppointmentType.PSYCHIATRY, NOW - days(30))

    result = evaluation(*history)

    follow_up = one(result, Kind.VISIT_FOLLOW_UP)
    assert follow_up.status is Status.OPEN
    assert follow_up.due_at == NOW - days(30) + days(28)
    assert "within 28 days" in follow_up.reason


def test_the_follow_up_delay_per_type_comes_from_the_configuration():
    history = _attended(ev.AppointmentType.PSYCHIATRY, NOW - days(30))
    config = RuleConfig(
        clinic_timezone="America/New_York", follow_up_delays={"psychiatry": days(60)}
    )

    assert of_kind(evaluation(*history, config=config), Kind.VISIT_FOLLOW_UP) == []


def test_a_follow_up_booked_after_the_visit_meets_the_need():
    history = _attended(ev.AppointmentType.PSYCHIATRY, NOW - days(40))
    rebook = booked(NOW - days(5), NOW + days(10), ev.AppointmentType.FOLLOW_UP)

    follow_up = one(evaluation(*history, rebook), Kind.VISIT_FOLLOW_UP)

    assert follow_up.status is Status.DONE
    assert follow_up.closed_at == NOW - days(5)


def test_a_therapy_session_calls_for_no_follow_up_by_default():
    assert (
        of_kind(
            evaluation(*_attended(ev.AppointmentType.THERAPY, NOW - days(30))), Kind.VISIT_FOLLOW_UP
        )
        == []
    )


# --- no-shows ----------------------------------------------------------------------------


def _no_show(starts_at: dt.datetime) -> list[At]:
    visit = booked(starts_at - days(7), starts_at, ev.AppointmentType.THERAPY)
    return [
        visit,
        at(
            starts_at + hours(1), ev.AppointmentNoShowRecorded(appointment_id=appointment_of(visit))
        ),
    ]


def test_a_no_show_is_followed_up_within_one_business_day():
    # Friday 30 Oct, 10:00 in New York: due the next business day, Monday 2 Nov.
    friday = dt.datetime(2026, 10, 30, 14, 0, tzinfo=dt.UTC)

    follow_up = one(evaluation(*_no_show(friday - hours(1))), Kind.NO_SHOW_FOLLOW_UP)

    assert follow_up.status is Status.OPEN
    assert follow_up.due_at == dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)  # EST after DST
    assert follow_up.reason.startswith(
        "No-show for therapy session with Dr. Okafor Fri Oct 30, 2026"
    )
    assert "no contact since" in follow_up.reason


def test_the_patient_calling_back_closes_the_no_show_follow_up():
    history = _no_show(NOW - days(2))

    follow_up = one(evaluation(*history, call(NOW - hours(3), C.CONNECTED)), Kind.NO_SHOW_FOLLOW_UP)

    assert follow_up.status is Status.DONE
    assert follow_up.closed_at == NOW - hours(3)
    assert "voice call" in follow_up.closed_reason


def test_a_no_show_follow_up_nobody_acted_on_expires_and_says_why():
    follow_up = one(evaluation(*_no_show(NOW - days(20))), Kind.NO_SHOW_FOLLOW_UP)

    assert follow_up.status is Status.EXPIRED
    assert follow_up.closed_reason == "Nobody acted within 14 days."


# --- calls and texts ---------------------------------------------------------------------


def test_a_missed_call_an_abandoned_call_and_a_voicemail_each_ask_for_a_call_back():
    for disposition in (C.MISSED, C.ABANDONED, C.VOICEMAIL):
        callback = one(evaluation(call(NOW - hours(1), disposition)), Kind.CALLBACK)
        assert callback.status is Status.OPEN
        assert callback.due_at == NOW - hours(1) + CONFIG.callback_due


def test_an_outbound_voicemail_we_left_is_not_a_call_back():
    result = evaluation(call(NOW - hours(1), C.VOICEMAIL, direction=OUTBOUND))

    assert of_kind(result, Kind.CALLBACK) == []


def test_reaching_the_patient_closes_the_call_back():
    result = evaluation(
        call(NOW - hours(3), C.MISSED), call(NOW - hours(1), C.CONNECTED, direction=OUTBOUND)
    )

    callback = one(result, Kind.CALLBACK)
    assert callback.status is Status.DONE
    assert callback.closed_by == "rule"


def test_a_second_missed_call_replaces_the_first_call_back():
    result = evaluation(call(NOW - hours(3), C.MISSED), call(NOW - hours(1), C.ABANDONED))

    statuses = sorted(s.status for s in of_kind(result, Kind.CALLBACK))
    assert statuses == [Status.EXPIRED, Status.OPEN]


def test_a_reschedule_text_asks_for_a_new_time_until_the_visit_is_moved():
    visit = booked(NOW - days(5), NOW + days(2))
    request = text(NOW - hours(5), ev.SmsIntent.RESCHEDULE)

    assert one(evaluation(visit, request), Kind.RESCHEDULE_REQUEST).status is Status.OPEN

    moved = at(
        NOW - hours(1),
        ev.AppointmentRescheduled(
            appointment_id=appointment_of(visit),
            starts_at=NOW + days(5),
            previous_starts_at=NOW + days(2),
        ),
    )
    done = one(evaluation(visit, request, moved), Kind.RESCHEDULE_REQUEST)
    assert done.status is Status.DONE and done.closed_at == NOW - hours(1)


def test_a_free_text_asks_for_a_call_back_that_only_a_conversation_closes():
    message = text(NOW - hours(5), ev.SmsIntent.FREE_TEXT, body="Can someone call me?")

    assert one(evaluation(message), Kind.SMS_CALLBACK).status is Status.OPEN
    reply = text(NOW - hours(4), ev.SmsIntent.CONFIRM)
    assert one(evaluation(message, reply), Kind.SMS_CALLBACK).status is Status.OPEN
    spoke = call(NOW - hours(2), C.CONNECTED, direction=OUTBOUND)
    assert one(evaluation(message, spoke), Kind.SMS_CALLBACK).status is Status.DONE


def test_a_text_asking_to_stop_is_reviewed_first_after_a_crisis():
    result = evaluation(text(NOW - hours(1), ev.SmsIntent.STOP_REQUEST, body="pls stop texting me"))

    review = one(result, Kind.SMS_STOP_REVIEW)
    assert review.status is Status.OPEN
    assert review.suggestion_id.startswith("sms_stop_review.")
    assert result.suggestions[0] == review  # nothing outranks it without a crisis
    assert "pls stop" not in review.reason  # the patient's words stay in the timeline


def test_withdrawing_text_consent_closes_the_stop_review():
    stop = text(NOW - hours(3), ev.SmsIntent.STOP_REQUEST)
    revoked = at(
        NOW - hours(1),
        ev.ConsentRevoked(
            channel=ev.Channel.SMS, source=ev.ConsentSource.VERBAL, phone="+16175550134"
        ),
    )

    review = one(evaluation(stop, revoked), Kind.SMS_STOP_REVIEW)

    assert review.status is Status.DONE


# --- confirmations and consent -----------------------------------------------------------


def test_an_unconfirmed_appointment_within_48_hours_asks_for_a_confirmation_call():
    visit = booked(NOW - days(10), NOW + hours(30))

    confirm = one(evaluation(visit), Kind.CONFIRM_APPOINTMENT)

    assert confirm.status is Status.OPEN
    assert confirm.opened_at == NOW + hours(30) - hours(48)
    assert confirm.due_at == NOW + hours(6)


def test_an_appointment_further_out_waits_until_its_48_hour_window():
    visit = booked(NOW - days(10), NOW + days(5))

    result = evaluation(visit)

    assert of_kind(result, Kind.CONFIRM_APPOINTMENT) == []
    assert result.next_change_at is not None
    assert result.next_change_at <= NOW + days(5) - hours(48)


def test_a_confirmation_closes_the_confirmation_call():
    visit = booked(NOW - days(10), NOW + hours(30))
    confirmed = at(
        NOW - hours(1),
        ev.AppointmentConfirmed(appointment_id=appointment_of(visit), via=ev.Channel.SMS),
    )

    confirm = one(evaluation(visit, confirmed), Kind.CONFIRM_APPOINTMENT)

    assert confirm.status is Status.DONE and confirm.closed_at == NOW - hours(1)


def test_no_sms_consent_on_file_with_an_appointment_coming_asks_for_it():
    result = evaluation(booked(NOW - days(1), NOW + days(10)))

    assert one(result, Kind.SMS_CONSENT).status is Status.OPEN


def test_someone_who_said_no_to_texts_is_never_asked_again():
    revoked = at(
        NOW - days(30),
        ev.ConsentRevoked(channel=ev.Channel.SMS, source=ev.ConsentSource.SMS_KEYWORD),
    )

    result = evaluation(revoked, booked(NOW - days(1), NOW + days(10)))

    assert of_kind(result, Kind.SMS_CONSENT) == []


def test_recording_consent_closes_the_consent_ask():
    consent = at(
        NOW - hours(1),
        ev.ConsentRecorded(
            channel=ev.Channel.SMS,
            purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
            source=ev.ConsentSource.VERBAL,
        ),
    )

    ask = one(evaluation(booked(NOW - days(1), NOW + days(10)), consent), Kind.SMS_CONSENT)

    assert ask.status is Status.DONE


# --- tests ordered -----------------------------------------------------------------------


def _ordered(due_by: dt.date, test_id: uuid.UUID) -> object:
    return at(
        NOW - days(30),
        ev.TestOrdered(
            test_id=test_id, test_name="Lipid panel", due_by=due_by, ordered_by="dr.casey"
        ),
    )


def test_a_test_not_done_or_booked_by_its_due_date_is_overdue():
    test_id = uuid.uuid4()

    overdue = one(evaluation(_ordered(dt.date(2026, 11, 1), test_id)), Kind.TEST_OVERDUE)

    assert overdue.status is Status.OPEN
    # The day after the due date begins at midnight in New York (05:00 UTC in November).
    assert overdue.opened_at == dt.datetime(2026, 11, 2, 5, 0, tzinfo=dt.UTC)
    assert overdue.reason.startswith("Lipid panel was due by Nov 1, 2026")


def test_a_test_booked_before_its_due_date_is_never_overdue():
    test_id = uuid.uuid4()
    visit = booked(NOW - days(10), NOW + days(3), ev.AppointmentType.TEST)

    result = evaluation(_ordered(dt.date(2026, 11, 1), test_id), visit)

    assert of_kind(result, Kind.TEST_OVERDUE) == []


def test_completing_the_test_closes_it():
    test_id = uuid.uuid4()
    completed = at(NOW - hours(2), ev.TestCompleted(test_id=test_id))

    overdue = one(evaluation(_ordered(dt.date(2026, 11, 1), test_id), completed), Kind.TEST_OVERDUE)

    assert overdue.status is Status.DONE


# --- unreachable -------------------------------------------------------------------------


def test_three_failed_calls_suggest_another_channel():
    attempts = [
        call(NOW - days(3), C.NO_ANSWER, direction=OUTBOUND),
        call(NOW - days(2), C.VOICEMAIL, direction=OUTBOUND),
        call(NOW - days(1), C.BUSY, direction=OUTBOUND),
    ]

    other = one(evaluation(*attempts), Kind.TRY_OTHER_CHANNEL)

    assert other.status is Status.OPEN
    assert other.payload["channel"] == "voice"
    assert other.payload["try"] == ["email"]  # no text consent on file
    assert "3 calls without reaching the patient" in other.reason
    assert "no answer, voicemail, busy" in other.reason


def test_two_failed_calls_are_not_yet_unreachable_and_a_conversation_resets_the_count():
    attempts = [
        call(NOW - days(3), C.NO_ANSWER, direction=OUTBOUND),
        call(NOW - days(2), C.NO_ANSWER, direction=OUTBOUND),
        call(NOW - days(2) + hours(4), C.CONNECTED, direction=INBOUND),
        call(NOW - days(1), C.NO_ANSWER, direction=OUTBOUND),
    ]

    assert of_kind(evaluation(*attempts), Kind.TRY_OTHER_CHANNEL) == []


def test_trying_another_channel_closes_the_suggestion():
    attempts = [call(NOW - days(d), C.NO_ANSWER, direction=OUTBOUND) for d in (3, 2, 1)]
    by_chat = call(NOW - hours(2), C.NO_ANSWER, direction=OUTBOUND, channel=ev.Channel.CHAT)

    other = one(evaluation(*attempts, by_chat), Kind.TRY_OTHER_CHANNEL)

    assert other.status is Status.DONE
    assert other.closed_reason.startswith("Tried by chat")


# --- crisis ------------------------------------------------------------------------------


def test_a_crisis_contact_asks_for_a_follow_up_call_within_24_hours_first_in_the_queue():
    contact = crisis(NOW - hours(2))

    result = evaluation(contact, call(NOW - hours(5), C.MISSED))

    follow_up = result.suggestions[0]
    assert follow_up.kind is Kind.CRISIS_FOLLOW_UP
    assert follow_up.status is Status.OPEN
    assert follow_up.due_at == NOW - hours(2) + hours(24)
    assert follow_up.payload["crisis_line"] == "988"
    assert "Crisis line: 988" in follow_up.reason
    assert "private detail" not in follow_up.reason


def test_the_crisis_line_shown_is_the_configured_one_never_the_callers_area_code():
    config = RuleConfig(clinic_timezone="America/New_York", crisis_line="1-800-555-0199")

    follow_up = one(evaluation(crisis(NOW - hours(2)), config=config), Kind.CRISIS_FOLLOW_UP)

    assert follow_up.payload["crisis_line"] == "1-800-555-0199"


def test_unanswered_attempts_keep_the_crisis_follow_up_open_and_bring_the_next_try_forward():
    contact = crisis(NOW - hours(10))
    tried = call(NOW - hours(3), C.NO_ANSWER, direction=OUTBOUND)

    follow_up = one(evaluation(contact, tried), Kind.CRISIS_FOLLOW_UP)

    assert follow_up.status is Status.OPEN
    assert follow_up.due_at == NOW - hours(3) + CONFIG.crisis_retry
    assert follow_up.payload["attempts"] == 1


def test_a_text_from_the_patient_does_not_count_as_reaching_them_after_a_crisis():
    contact = crisis(NOW - hours(10))

    result = evaluation(contact, text(NOW - hours(2), ev.SmsIntent.FREE_TEXT))

    assert one(result, Kind.CRISIS_FOLLOW_UP).status is Status.OPEN


def test_reaching_the_patient_by_phone_either_way_meets_the_crisis_follow_up():
    for direction in (INBOUND, OUTBOUND):
        contact = crisis(NOW - hours(10))
        reached = call(NOW - hours(2), C.CONNECTED, direction=direction)

        follow_up = one(evaluation(contact, reached), Kind.CRISIS_FOLLOW_UP)

        assert follow_up.status is Status.DONE
        assert follow_up.closed_at == NOW - hours(2)


def test_the_crisis_follow_up_stays_open_past_72_hours_until_the_patient_is_reached():
    follow_up = one(evaluation(crisis(NOW - hours(80))), Kind.CRISIS_FOLLOW_UP)

    assert follow_up.status is Status.OPEN
    assert follow_up.due_at == NOW - hours(80) + hours(24)  # the most overdue of all


def test_caring_contacts_follow_over_the_year_front_loaded_whether_or_not_anyone_answers():
    contact = crisis(NOW - days(30))

    caring = of_kind(evaluation(contact), Kind.CARING_CONTACT)

    assert [s.payload["number"] for s in caring] == [1, 2, 3, 4]
    assert [s.status for s in caring] == [Status.EXPIRED] * 3 + [Status.OPEN]
    assert "Superseded by caring contact 2 of 12" in caring[0].closed_reason
    assert "asks nothing" in caring[3].reason


def test_a_caring_contact_sent_by_an_agent_is_done():
    crisis_id = uuid.uuid4()
    contact = crisis(NOW - days(8), crisis_id)
    sent = at(
        NOW - days(1) + hours(1),
        ev.SuggestionCompleted(
            suggestion_id=f"caring_contact.{crisis_id}.1",
            kind="caring_contact",
            outcome="Sent a note",
            agent="agent.one",
        ),
    )

    caring = of_kind(evaluation(contact, sent), Kind.CARING_CONTACT)

    assert caring[0].status is Status.DONE and caring[0].closed_by == "agent"
    assert caring[0].outcome == "Sent a note"


def test_an_open_crisis_flag_pauses_routine_outreach_but_never_the_crisis_follow_up():
    visit = booked(NOW - days(1), NOW + days(10))

    result = evaluation(visit, crisis(NOW - hours(2)))

    annual = one(result, Kind.ANNUAL_WELLNESS)
    consent = one(result, Kind.SMS_CONSENT)
    assert annual.status is Status.SNOOZED and consent.status is Status.SNOOZED
    assert annual.paused_reason.startswith("Paused: crisis flag open")
    assert one(result, Kind.CRISIS_FOLLOW_UP).status is Status.OPEN


def test_clearing_the_crisis_flag_resumes_routine_outreach():
    cleared = at(NOW - hours(1), ev.CrisisFlagCleared(cleared_by="dr.casey", reason="Stable"))

    result = evaluation(crisis(NOW - days(5)), cleared)

    assert one(result, Kind.ANNUAL_WELLNESS).status is Status.OPEN


# --- the end of a record -----------------------------------------------------------------


def test_nothing_is_suggested_for_a_deceased_patient_and_what_was_open_expires():
    history = [call(NOW - days(2), C.MISSED), crisis(NOW - days(2))]
    died = at(NOW - days(1), ev.PatientDeceased(recorded_by="frontdesk.one"))

    result = evaluation(*history, died, booked(NOW - days(3), NOW + days(4)))

    assert open_kinds(result) == set()
    assert all(s.status is Status.EXPIRED for s in result.suggestions)
    assert {s.closed_reason for s in result.suggestions} == {"The patient is recorded as deceased."}
    # Nothing will open again: the only change left is forgetting them after 90 days.
    assert result.next_change_at == NOW - days(1) + CONFIG.history


def test_a_record_merged_into_another_has_no_suggestions_of_its_own():
    merged = at(
        NOW - hours(1),
        ev.PatientMergedInto(surviving_patient_id=uuid.uuid4(), merged_by="frontdesk.one"),
    )

    assert evaluation(call(NOW - hours(3), C.MISSED), merged).suggestions == []


# --- the agent's ledger ------------------------------------------------------------------


def test_a_claim_holds_the_suggestion_until_it_expires():
    missed = call(NOW - hours(3), C.MISSED)
    sid = f"callback.{missed.event.call_id}.{PATIENT_ID}"  # type: ignore[attr-defined]
    claim = at(
        NOW - minutes(5),
        ev.SuggestionClaimed(
            suggestion_id=sid, kind="callback", agent="agent.avery", until=NOW + minutes(10)
        ),
    )

    held = one(evaluation(missed, claim), Kind.CALLBACK)
    assert held.status is Status.CLAIMED and held.assignee == "agent.avery"

    later = one(evaluation(missed, claim, now=NOW + minutes(11)), Kind.CALLBACK)
    assert later.status is Status.OPEN and later.assignee == ""


def test_a_snoozed_suggestion_reopens_when_the_snooze_ends():
    missed = call(NOW - hours(3), C.MISSED)
    sid = f"callback.{missed.event.call_id}.{PATIENT_ID}"  # type: ignore[attr-defined]
    snooze = at(
        NOW - minutes(5),
        ev.SuggestionSnoozed(
            suggestion_id=sid, kind="callback", agent="agent.avery", until=NOW + hours(2)
        ),
    )

    result = evaluation(missed, snooze)
    assert one(result, Kind.CALLBACK).status is Status.SNOOZED
    assert result.next_change_at == NOW + hours(2)
    assert (
        one(
            evaluation(
                missed,
                snooze,
                now=NOW
                + hours(
                    2,
                ),
            ),
            Kind.CALLBACK,
        ).status
        is Status.OPEN
    )


def test_an_unreached_crisis_attempt_recorded_by_an_agent_keeps_the_follow_up_open():
    crisis_id = uuid.uuid4()
    attempt = at(
        NOW - hours(1),
        ev.SuggestionCompleted(
            suggestion_id=f"crisis_follow_up.{crisis_id}",
            kind="crisis_follow_up",
            outcome="not_reached",
            agent="agent.one",
        ),
    )

    follow_up = one(evaluation(crisis(NOW - hours(5), crisis_id), attempt), Kind.CRISIS_FOLLOW_UP)

    assert follow_up.status is Status.OPEN
    assert follow_up.payload["attempts"] == 1


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)
