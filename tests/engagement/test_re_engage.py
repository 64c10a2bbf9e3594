"""The win-back rule (re_engage), without a database: a patient who lapsed from care gets a call
to bring them back, cited in their own time, closed by a booking or a reached call, ranked up
by a crisis, held to the outreach hours, the frequency cap and consent."""

from __future__ import annotations

import dataclasses
import datetime as dt

from crm.domain import events as ev
from crm.domain.churn import ChurnRules
from engagement.domain.suggestions import PRIORITY, Kind, Status
from tests.domain.support import HISTORY_STARTS, At, patient_registered
from tests.engagement.support import (
    CONFIG,
    NOW,
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
)

# A therapy session at 10 AM in New York, 100 days before NOW: lapsed 10 days ago.
VISIT = dt.datetime(2026, 7, 26, 14, 0, tzinfo=dt.UTC)
LAPSED = VISIT + days(90)
OUTBOUND = ev.CallDirection.OUTBOUND
C = ev.CallDisposition


def session(starts_at: dt.datetime = VISIT, kind=ev.AppointmentType.THERAPY) -> list[At]:
    visit = booked(starts_at - days(7), starts_at, kind)
    done = at(starts_at + hours(1), ev.AppointmentCompleted(appointment_id=appointment_of(visit)))
    return [visit, done]


def test_a_therapy_patient_silent_for_90_days_gets_a_win_back_call_citing_the_last_visit():
    found = one(evaluation(*session()), Kind.RE_ENGAGE)

    assert found.status is Status.OPEN and found.priority == PRIORITY[Kind.RE_ENGAGE]
    assert found.opened_at == LAPSED and found.due_at == LAPSED
    assert found.reason.startswith(
        "Lapsed from care Sat Oct 24, 2026: last visit Sun Jul 26, 2026 (therapy session); "
        "no visit, nothing booked and no contact for 90 days since then. No attempt to reach "
        "them since the visit. Call to invite them back."
    )
    assert found.payload["lapse_days"] == 90 and found.payload["channels"] == ["voice"]
    assert found.evidence[0].event_type == "AppointmentCompleted"


def test_it_arises_exactly_at_the_threshold_and_not_a_second_before():
    assert not of_kind(evaluation(*session(), now=LAPSED - dt.timedelta(seconds=1)), Kind.RE_ENGAGE)
    assert one(evaluation(*session(), now=LAPSED), Kind.RE_ENGAGE).status is Status.OPEN


def test_other_visit_types_wait_180_days_and_the_settings_decide():
    annual = session(NOW - days(100), ev.AppointmentType.ANNUAL_WELLNESS)
    assert not of_kind(evaluation(*annual), Kind.RE_ENGAGE)

    sooner = dataclasses.replace(
        CONFIG, churn=ChurnRules(lapse_days={}, other_lapse_days=60, active_months=12)
    )
    assert one(evaluation(*annual, config=sooner), Kind.RE_ENGAGE).payload["lapse_days"] == 60


def test_an_upcoming_visit_keeps_the_patient_in_care():
    ahead = booked(VISIT + days(30), NOW + days(20))
    assert not of_kind(evaluation(*session(), ahead), Kind.RE_ENGAGE)


def test_a_reached_call_before_the_threshold_moves_it_and_one_after_closes_it():
    before = call(VISIT + days(60), C.CONNECTED, direction=OUTBOUND)
    assert not of_kind(evaluation(*session(), before), Kind.RE_ENGAGE)  # lapses Dec 23
    later = one(evaluation(*session(), before, now=NOW + days(60)), Kind.RE_ENGAGE)
    assert later.opened_at == VISIT + days(150)
    assert "for 90 days since Thu Sep 24, 2026." in later.reason

    after = call(NOW - days(2), C.CONNECTED, direction=OUTBOUND)
    found = one(evaluation(*session(), after), Kind.RE_ENGAGE)
    assert found.status is Status.DONE and found.closed_by == "rule"
    assert found.closed_reason.startswith("The patient was reached (voice call)")


def test_booking_a_visit_closes_it_by_itself():
    again = booked(NOW - days(1), NOW + days(6))
    found = one(evaluation(*session(), again), Kind.RE_ENGAGE)
    assert found.status is Status.DONE
    assert found.closed_reason.startswith("A visit was booked")


def test_the_reason_names_the_last_attempts_in_the_patients_own_time():
    west = at(HISTORY_STARTS, patient_registered(timezone="America/Los_Angeles"))
    tried = [
        call(VISIT + days(40), C.NO_ANSWER, direction=OUTBOUND),
        call(VISIT + days(50), C.VOICEMAIL, direction=OUTBOUND),
    ]
    found = one(evaluation(west, *session(), *tried, registered=False), Kind.RE_ENGAGE)

    assert (
        "Last attempts to reach them: Mon Sep 14, 2026, 7:00 AM PDT (clinic: 10:00 AM EDT) "
        "(phone, voicemail); Fri Sep 4, 2026, 7:00 AM PDT (clinic: 10:00 AM EDT) "
        "(phone, no answer)."
    ) in found.reason
    assert found.payload["attempts"] == 2


def test_an_open_crisis_flag_or_a_recent_crisis_contact_raises_its_priority():
    recent = crisis(VISIT + days(-30))
    found = one(evaluation(*session(), recent), Kind.RE_ENGAGE)
    assert found.priority == PRIORITY[Kind.CARING_CONTACT] < PRIORITY[Kind.RE_ENGAGE]
    assert "Crisis flag open" in found.reason and found.payload["priority_raised"] is True

    cleared = at(VISIT - days(20), ev.CrisisFlagCleared(cleared_by="dr.one", reason="Reviewed"))
    still_recent = one(evaluation(*session(), recent, cleared), Kind.RE_ENGAGE)
    assert still_recent.priority == PRIORITY[Kind.CARING_CONTACT]
    assert "Crisis contact Fri Jun 26, 2026" in still_recent.reason

    long_ago = [crisis(VISIT - days(300)), at(VISIT - days(290), cleared.event)]
    assert (
        one(evaluation(*session(), *long_ago), Kind.RE_ENGAGE).priority == PRIORITY[Kind.RE_ENGAGE]
    )


def test_it_waits_for_the_outreach_hours_in_the_patients_zone():
    late = dt.datetime(2026, 7, 27, 2, 0, tzinfo=dt.UTC)  # 10 PM in New York
    found = one(evaluation(*session(late)), Kind.RE_ENGAGE)
    assert found.opened_at == late + days(90)
    assert found.due_at == dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC)  # 8 AM EDT


def test_an_attempt_after_the_lapse_makes_the_next_one_due_when_the_cap_allows():
    tried = call(LAPSED + hours(2), C.NO_ANSWER, direction=OUTBOUND)
    found = one(evaluation(*session(), tried), Kind.RE_ENGAGE)
    assert found.status is Status.OPEN
    assert found.due_at == LAPSED + hours(2) + days(1)  # one attempt a day


def test_a_death_on_record_ends_it():
    died = at(NOW - days(3), ev.PatientDeceased(recorded_by="frontdesk.one"))
    found = one(evaluation(*session(), died), Kind.RE_ENGAGE)
    assert found.status is Status.EXPIRED
    assert found.closed_reason == "The patient is recorded as deceased."


def test_no_way_to_reach_them_means_no_win_back_call():
    no_calls = at(
        VISIT + days(5), ev.ConsentRevoked(channel=ev.Channel.VOICE, source=ev.ConsentSource.VERBAL)
    )
    assert not of_kind(evaluation(*session(), no_calls), Kind.RE_ENGAGE)


def test_a_patient_opted_out_of_everything_is_never_asked_back():
    out = [
        at(VISIT + days(5), ev.ConsentRevoked(channel=channel, source=ev.ConsentSource.VERBAL))
        for channel in (ev.Channel.VOICE, ev.Channel.SMS)
    ]
    assert not of_kind(evaluation(*session(), *out), Kind.RE_ENGAGE)


def test_a_patient_who_agreed_to_care_texts_but_not_calls_is_to_be_texted():
    consents = [
        at(
            VISIT - days(5),
            ev.ConsentRevoked(channel=ev.Channel.VOICE, source=ev.ConsentSource.VERBAL),
        ),
        at(
            VISIT - days(5),
            ev.ConsentRecorded(
                channel=ev.Channel.SMS,
                purpose=ev.ConsentPurpose.CARE_MESSAGES,
                source=ev.ConsentSource.WRITTEN,
            ),
        ),
    ]
    found = one(evaluation(*session(), *consents), Kind.RE_ENGAGE)
    assert found.payload["channels"] == ["sms"]
    assert "Phone consent withdrawn: text only." in found.reason
