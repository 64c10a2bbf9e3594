"""The supervisor's figures, counted the way a contact center counts them, from a log the
metrics projection follows (and can rebuild to the very same rows)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zoneinfo

import pytest
from django.test import override_settings

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.handlers import Actor
from crm.models import DailySatisfactionStats, LoggedCall, PatientProfile
from crm.projections import runner
from crm.projections.metrics import MetricsProjection
from crm.selectors.metrics import RangeInvalid, Thresholds, supervisor_figures
from tests.crm.history import random_history
from tests.crm.parking import insert_raw

pytestmark = pytest.mark.django_db

CLINIC = zoneinfo.ZoneInfo("America/New_York")
MONDAY = dt.date(2026, 11, 2)
LATER = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)  # every repeat window long closed
AGENT = Actor(name="agent.cedar", channel="api", role="agent")


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CLINIC)


def caller(name: str, phone: str | None = None) -> uuid.UUID:
    when = at(MONDAY - dt.timedelta(days=200))
    return handlers.patient_register(
        first_name=name,
        last_name="Quillbrook",
        date_of_birth=dt.date(1980, 1, 1),
        phone=phone,
        actor=AGENT,
        now=when,
        occurred_at=when,
    ).patient_id


def call(
    patient: uuid.UUID,
    started_at: dt.datetime,
    *,
    reason: str = "",
    words: str = "",
    resolved: bool = True,
    disposition: ev.CallDisposition = ev.CallDisposition.CONNECTED,
    direction: ev.CallDirection = ev.CallDirection.INBOUND,
    channel: ev.Channel = ev.Channel.VOICE,
    seconds: int = 240,
    hold: int = 0,
    wrap_up: int = 0,
) -> None:
    """A call on `reason`, a code of the clinic's list; handled ones marked resolved unless
    `resolved` says otherwise."""
    handlers.call_log(
        patient_id=patient,
        direction=direction,
        channel=channel,
        started_at=started_at,
        duration_seconds=seconds,
        hold_seconds=hold,
        wrap_up_seconds=wrap_up,
        disposition=disposition,
        reason_code=reason,
        reason=words,
        resolved_first_contact=resolved and disposition is ev.CallDisposition.CONNECTED,
        actor=AGENT,
        now=LATER,
    )


def figures(start: dt.date, end: dt.date | None = None, *, now=LATER, **limits):
    runner.catch_up_all()
    thresholds = Thresholds(**{"fcr_repeat_days": 7, "short_abandon_seconds": 5, **limits})
    return supervisor_figures(start=start, end=end or start, now=now, thresholds=thresholds)


# --- first-contact resolution -------------------------------------------------------------


def test_a_patient_calling_back_about_the_same_bill_within_a_week_was_not_resolved(db):
    billing, refill, twice = caller("Avery"), caller("Blake"), caller("Casey")
    call(billing, at(MONDAY), reason="billing")
    call(billing, at(MONDAY + dt.timedelta(days=3)), reason="billing", words="Copay again")
    call(refill, at(MONDAY, 11), reason="refill")
    call(twice, at(MONDAY, 12), reason="billing")
    call(twice, at(MONDAY + dt.timedelta(days=10), 12), reason="billing")

    monday = figures(MONDAY).total
    thursday = figures(MONDAY + dt.timedelta(days=3)).total

    assert (monday.resolved_first_contact, monday.first_contacts) == (2, 3)
    assert monday.fcr_rate == pytest.approx(2 / 3)
    assert thursday.first_contacts == 0  # a repeat is part of Monday's issue, not a new one


def test_the_repeat_window_is_a_setting_read_when_the_figures_are(db):
    billing = caller("Avery")
    call(billing, at(MONDAY), reason="billing")
    call(billing, at(MONDAY + dt.timedelta(days=3)), reason="billing")
    runner.catch_up_all()

    with override_settings(METRICS_FCR_REPEAT_DAYS=2):
        short_window = supervisor_figures(start=MONDAY, end=MONDAY, now=LATER).total

    assert short_window.fcr_rate == 1.0
    assert figures(MONDAY, fcr_repeat_days=7).total.fcr_rate == 0.0


def test_a_call_logged_late_still_counts_as_the_repeat_it_was(db):
    billing = caller("Avery")
    call(billing, at(MONDAY + dt.timedelta(days=2)), reason="billing")
    runner.catch_up_all()
    call(billing, at(MONDAY), reason="billing")  # Monday's call, logged afterwards

    week = figures(MONDAY, MONDAY + dt.timedelta(days=6))

    assert (week.total.first_contacts, week.total.resolved_first_contact) == (1, 0)
    assert week.periods[0].first_contacts == 1


def test_outbound_calls_open_no_issue_but_do_count_as_a_repeat(db):
    patient = caller("Avery")
    call(patient, at(MONDAY), reason="test_results")
    call(
        patient,
        at(MONDAY + dt.timedelta(days=1)),
        reason="test_results",
        direction=ev.CallDirection.OUTBOUND,
    )

    total = figures(MONDAY, MONDAY + dt.timedelta(days=6)).total

    assert (total.first_contacts, total.resolved_first_contact) == (1, 0)


def test_contacts_still_inside_their_window_are_awaiting_and_not_counted(db):
    patient = caller("Avery")
    call(patient, at(MONDAY), reason="directions")

    soon = figures(MONDAY, now=at(MONDAY + dt.timedelta(days=2))).total
    later = figures(MONDAY).total

    assert (soon.first_contacts, soon.awaiting_repeat_window, soon.fcr_rate) == (0, 1, None)
    assert (later.first_contacts, later.awaiting_repeat_window, later.fcr_rate) == (1, 0, 1.0)


def test_a_contact_the_agent_marked_unresolved_is_not_resolved_and_is_counted_at_once(db):
    open_question, settled = caller("Avery"), caller("Blake")
    call(open_question, at(MONDAY), reason="refill", resolved=False)
    call(settled, at(MONDAY, 11), reason="refill")

    next_day = figures(MONDAY, now=at(MONDAY + dt.timedelta(days=1))).total
    later = figures(MONDAY).total

    # The agent's "not resolved" needs no window to close; "resolved" waits for it.
    assert (next_day.first_contacts, next_day.marked_unresolved) == (1, 1)
    assert (next_day.resolved_first_contact, next_day.awaiting_repeat_window) == (0, 1)
    assert (later.first_contacts, later.resolved_first_contact) == (2, 1)
    assert (later.marked_unresolved, later.contacted_again) == (1, 0)


def test_a_repeat_is_within_the_window_inclusive_and_not_a_minute_past_it(db):
    inside, outside = caller("Avery"), caller("Blake")
    call(inside, at(MONDAY, 9), reason="billing")
    call(inside, at(MONDAY + dt.timedelta(days=7), 9), reason="billing")
    call(outside, at(MONDAY, 10), reason="billing")
    call(outside, at(MONDAY + dt.timedelta(days=7), 10, 1), reason="billing")

    monday = figures(MONDAY).total

    assert (monday.first_contacts, monday.resolved_first_contact) == (2, 1)
    assert monday.contacted_again == 1


def test_a_contact_on_another_reason_is_no_repeat(db):
    patient = caller("Avery")
    call(patient, at(MONDAY), reason="billing")
    call(patient, at(MONDAY + dt.timedelta(days=1)), reason="refill", words="Billing question")

    week = figures(MONDAY, MONDAY + dt.timedelta(days=6)).total

    # Matched on the list's code, never on the words the agent typed.
    assert (week.first_contacts, week.resolved_first_contact) == (2, 2)


def test_reasons_in_free_text_are_all_other_and_repeat_each_other(db):
    patient = caller("Avery")
    call(patient, at(MONDAY), words="Asked about a letter for work")
    call(patient, at(MONDAY + dt.timedelta(days=2)), words="Lost a jacket")

    week = figures(MONDAY, MONDAY + dt.timedelta(days=6)).total

    assert (week.first_contacts, week.resolved_first_contact, week.contacted_again) == (1, 0, 1)
    assert set(LoggedCall.objects.values_list("reason_key", flat=True)) == {"other"}


def test_a_call_logged_before_the_list_of_reasons_counts_as_other_and_rebuilds_the_same(db):
    patient = caller("Avery")
    insert_raw(
        patient,
        event_type="CallLogged",
        schema_version=2,
        data={
            "call_id": str(uuid.uuid4()),
            "direction": "inbound",
            "channel": "voice",
            "agent": "agent.cedar",
            "started_at": at(MONDAY).isoformat(),
            "duration_seconds": 200,
            "disposition": "connected",
            "reason": "Billing question",
            "resolved_first_contact": True,
        },
    )
    call(patient, at(MONDAY + dt.timedelta(days=2)), reason="other", words="Still the bill")

    live = figures(MONDAY, MONDAY + dt.timedelta(days=6)).total
    runner.rebuild(MetricsProjection(), batch_size=1)
    rebuilt = figures(MONDAY, MONDAY + dt.timedelta(days=6)).total

    assert (live.first_contacts, live.resolved_first_contact, live.contacted_again) == (1, 0, 1)
    assert rebuilt == live


# --- handle time and abandonment ----------------------------------------------------------


def test_average_handle_time_is_talk_hold_and_wrap_up_over_handled_contacts(db):
    patient = caller("Avery")
    call(patient, at(MONDAY, 9), seconds=300, hold=60, wrap_up=30)
    call(patient, at(MONDAY, 10), seconds=120, wrap_up=60)
    call(patient, at(MONDAY, 11), seconds=40, disposition=ev.CallDisposition.VOICEMAIL)

    total = figures(MONDAY).total

    assert total.handled == 2
    assert total.average_handle_seconds == pytest.approx((330 + 180) / 2)


def test_short_hang_ups_are_left_out_of_abandonment(db):
    patient = caller("Avery")
    for minute in range(6):
        call(patient, at(MONDAY, 9, minute))
    for minute, waited in [(10, 60), (11, 90), (12, 3), (13, 2)]:
        call(
            patient, at(MONDAY, 9, minute), seconds=waited, disposition=ev.CallDisposition.ABANDONED
        )
    call(
        patient,
        at(MONDAY, 9, 20),
        seconds=60,
        disposition=ev.CallDisposition.ABANDONED,
        direction=ev.CallDirection.OUTBOUND,
    )
    call(patient, at(MONDAY, 9, 21), channel=ev.Channel.SMS)

    standard = figures(MONDAY).total
    counting_all = figures(MONDAY, short_abandon_seconds=0).total

    assert (standard.abandoned, standard.queued, standard.short_hang_ups) == (2, 8, 2)
    assert standard.abandonment_rate == pytest.approx(0.25)
    assert counting_all.abandonment_rate == pytest.approx(0.4)
    assert standard.calls_by_channel == {"voice": 11, "sms": 1}


def test_calls_missed_in_the_queue_are_abandoned_too_and_quick_ones_left_out(db):
    patient = caller("Avery")
    for minute in range(6):
        call(patient, at(MONDAY, 9, minute))
    for minute, waited, disposition in [
        (10, 60, ev.CallDisposition.ABANDONED),
        (11, 25, ev.CallDisposition.MISSED),
        (12, 2, ev.CallDisposition.MISSED),  # rang off at once: a misdial
        (13, 40, ev.CallDisposition.VOICEMAIL),  # left a message: not abandoned
    ]:
        call(patient, at(MONDAY, 9, minute), seconds=waited, disposition=disposition)
    call(
        patient,
        at(MONDAY, 9, 20),
        seconds=30,
        disposition=ev.CallDisposition.MISSED,
        direction=ev.CallDirection.OUTBOUND,  # the patient missed our call: not the queue
    )

    total = figures(MONDAY).total

    assert (total.abandoned, total.missed, total.short_hang_ups) == (2, 1, 1)
    assert total.queued == 9  # 6 handled, the abandoned, the missed, the voicemail
    assert total.abandonment_rate == pytest.approx(2 / 9)


# --- visits and satisfaction --------------------------------------------------------------


def test_no_shows_and_satisfaction_are_rates_of_what_was_measured(db):
    patient = caller("Avery", phone="(617) 555-0134")
    booked_at = at(MONDAY - dt.timedelta(days=20))
    for hour in (9, 10, 11, 12):
        visit = uuid.uuid4()
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.FOLLOW_UP,
            starts_at=at(MONDAY, hour),
            provider="Dr. Sam Oakridge",
            location="Main Street Clinic",
            appointment_id=visit,
            actor=AGENT,
            now=booked_at,
            occurred_at=booked_at,
        )
        close = handlers.appointment_no_show if hour == 12 else handlers.appointment_complete
        close(
            patient_id=patient,
            appointment_id=visit,
            actor=AGENT,
            now=at(MONDAY, hour, 30),
            occurred_at=at(MONDAY, hour, 30),
        )
    for score in (5, 4, 2):
        handlers.satisfaction_record(
            patient_id=patient,
            score=score,
            channel=ev.Channel.SMS,
            actor=AGENT,
            occurred_at=at(MONDAY, 17),
        )

    total = figures(MONDAY).total

    assert (total.no_shows, total.visits_closed, total.no_show_rate) == (1, 4, 0.25)
    assert (total.csat_satisfied, total.csat_responses) == (2, 3)
    assert total.csat_average == pytest.approx(11 / 3)


def test_a_quiet_range_has_no_rates_rather_than_zeros(db):
    total = figures(MONDAY, MONDAY + dt.timedelta(days=6)).total

    assert total.calls == 0
    rates = [total.fcr_rate, total.abandonment_rate, total.no_show_rate, total.csat_rate]
    assert rates == [None, None, None, None] and total.average_handle_seconds is None


# --- ranges -------------------------------------------------------------------------------


def test_a_long_range_is_counted_week_by_week_and_adds_up(db):
    patient = caller("Avery")
    for week in range(12):
        call(
            patient,
            at(MONDAY + dt.timedelta(weeks=week, days=2)),
            reason="other",
            words=f"question {week}",
        )

    quarter = figures(MONDAY, MONDAY + dt.timedelta(days=83))

    assert quarter.bucket == "week" and len(quarter.periods) == 12
    assert [p.calls for p in quarter.periods] == [1] * 12
    assert quarter.total.calls == 12
    assert quarter.as_dict()["total"]["calls"] == 12


def test_a_backwards_or_overlong_range_is_refused_with_a_reason(db):
    with pytest.raises(RangeInvalid, match="before the start"):
        supervisor_figures(start=MONDAY, end=MONDAY - dt.timedelta(days=1), now=LATER)
    with pytest.raises(RangeInvalid, match="at most 366 days"):
        supervisor_figures(start=MONDAY, end=MONDAY + dt.timedelta(days=400), now=LATER)


# --- the projection behind them -----------------------------------------------------------


def test_rebuilding_the_metrics_reproduces_every_call_row_and_every_figure(db):
    random_history(seed=20261102, patients=12, commands=300)
    rng = random.Random(6)
    patients = sorted(PatientProfile.objects.values_list("patient_id", flat=True))
    for _ in range(40):  # calls logged late, about reasons that repeat
        started = at(
            dt.date(2025, 1, 6) + dt.timedelta(days=rng.randint(0, 200)), rng.randint(8, 17)
        )
        try:
            call(
                rng.choice(patients),
                started,
                reason=rng.choice(["billing", "refill"]),
                resolved=rng.random() < 0.8,
            )
            handlers.satisfaction_record(
                patient_id=rng.choice(patients),
                score=rng.randint(1, 5),
                channel=ev.Channel.SMS,
                actor=AGENT,
                occurred_at=started,
            )
        except DomainError:
            pass
    projection = MetricsProjection()
    while runner.run_once(projection, batch_size=7):  # many small batches, as live
        pass
    live = (
        _dump(),
        supervisor_figures(
            start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), now=LATER
        ).as_dict(),
    )

    runner.rebuild(projection, batch_size=1000)
    rebuilt = (
        _dump(),
        supervisor_figures(
            start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), now=LATER
        ).as_dict(),
    )

    assert len(live[0]["calls"]) > 100 and live[0]["satisfaction"]
    assert rebuilt == live


def _dump() -> dict[str, list[tuple[object, ...]]]:
    return {
        "calls": list(LoggedCall.objects.order_by("position").values_list()),
        "satisfaction": list(
            DailySatisfactionStats.objects.order_by("day").values_list(
                "day", "responses", "satisfied", "score_total"
            )
        ),
    }
