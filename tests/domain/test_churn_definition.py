"""The churn definition at its edges: the lapse threshold to the second, an upcoming visit, a
reached call, aging out, and who is left out (death, merge, opting out of everything)."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.domain import churn
from crm.domain.churn import Booking, CareHistory, ChurnRules, Ending, Exclusion, Visit

VISIT = dt.datetime(2026, 1, 12, 15, 0, tzinfo=dt.UTC)
RULES = ChurnRules()
SECOND = dt.timedelta(seconds=1)


def in_care(history: CareHistory, moment: dt.datetime) -> bool:
    return any(spell.in_care(moment) for spell in churn.spells(history, RULES))


def test_a_therapy_patient_lapses_exactly_90_days_after_the_last_session_not_a_second_sooner():
    history = CareHistory(visits=[Visit(VISIT, "therapy")])
    threshold = VISIT + dt.timedelta(days=90)

    assert in_care(history, threshold - SECOND)
    assert not in_care(history, threshold)
    (spell,) = churn.spells(history, RULES)
    assert spell.ends_at == threshold and spell.ending is Ending.LAPSED


def test_other_visit_types_lapse_after_180_days_and_the_settings_can_change_both():
    history = CareHistory(visits=[Visit(VISIT, "annual_wellness")])
    assert churn.spells(history, RULES)[0].ends_at == VISIT + dt.timedelta(days=180)

    tuned = ChurnRules(active_months=6, lapse_days={"annual_wellness": 30}, other_lapse_days=60)
    assert churn.spells(history, tuned)[0].ends_at == VISIT + dt.timedelta(days=30)


def test_an_upcoming_visit_keeps_the_patient_in_care_until_its_time_then_the_clock_restarts():
    booked = VISIT + dt.timedelta(days=30)
    upcoming = VISIT + dt.timedelta(days=150)  # far beyond the 90 days, but booked ahead
    history = CareHistory(visits=[Visit(VISIT, "therapy")], bookings=[Booking(booked, upcoming)])

    assert in_care(history, VISIT + dt.timedelta(days=120))
    assert churn.spells(history, RULES)[0].ends_at == upcoming + dt.timedelta(days=90)


def test_a_cancelled_booking_covers_only_until_it_was_cancelled():
    booked, cancelled = VISIT + dt.timedelta(days=30), VISIT + dt.timedelta(days=40)
    history = CareHistory(
        visits=[Visit(VISIT, "therapy")], bookings=[Booking(booked, until=cancelled)]
    )
    assert churn.spells(history, RULES)[0].ends_at == cancelled + dt.timedelta(days=90)


def test_a_reached_call_restarts_the_lapse_clock_but_a_call_after_the_lapse_brings_no_one_back():
    reached = VISIT + dt.timedelta(days=80)
    late = VISIT + dt.timedelta(days=200)
    history = CareHistory(visits=[Visit(VISIT, "psychiatry")], contacts=[reached, late])

    (spell,) = churn.spells(history, RULES)
    assert spell.ends_at == reached + dt.timedelta(days=90)
    assert not in_care(history, late + SECOND)


def test_a_patient_kept_in_touch_by_calls_alone_leaves_care_when_the_last_visit_is_12_months_old():
    calls = [VISIT + dt.timedelta(days=60 * n) for n in range(1, 8)]
    history = CareHistory(visits=[Visit(VISIT, "therapy")], contacts=calls)

    (spell,) = churn.spells(history, RULES)
    assert spell.ending is Ending.AGED_OUT
    assert spell.ends_at == dt.datetime(2027, 1, 12, 15, 0, tzinfo=dt.UTC)


def test_a_new_visit_after_a_lapse_starts_a_new_stretch_in_care():
    back = VISIT + dt.timedelta(days=200)
    history = CareHistory(visits=[Visit(VISIT, "therapy"), Visit(back, "therapy")])

    first, second = churn.spells(history, RULES)
    assert first.ends_at == VISIT + dt.timedelta(days=90)
    assert second.started_at == back


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"deceased_at": VISIT + dt.timedelta(days=10)}, Exclusion.DECEASED),
        ({"merged_at": VISIT + dt.timedelta(days=10)}, Exclusion.MERGED),
        ({"opted_out": [(VISIT + dt.timedelta(days=10), None)]}, Exclusion.OPTED_OUT),
    ],
)
def test_death_merge_and_opting_out_of_everything_leave_a_patient_out_and_say_why(fields, why):
    history = CareHistory(visits=[Visit(VISIT, "therapy")], **fields)
    month = churn.Month(
        start=dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC),
        end=dt.datetime(2026, 5, 1, 4, tzinfo=dt.UTC),
    )

    assert history.excluded_at(VISIT) is None
    assert history.excluded_at(VISIT + dt.timedelta(days=10)) is why
    assert churn.month_outcome(churn.spells(history, RULES), history, month) == (None, False)


def test_a_lapse_in_the_month_counts_for_a_patient_in_care_at_its_start_unless_they_died_first():
    history = CareHistory(visits=[Visit(VISIT, "therapy")])
    april = churn.Month(
        start=dt.datetime(2026, 4, 1, 4, tzinfo=dt.UTC),
        end=dt.datetime(2026, 5, 1, 4, tzinfo=dt.UTC),
    )
    spell, lapsed = churn.month_outcome(churn.spells(history, RULES), history, april)
    assert spell is not None and lapsed  # lapses on April 12

    died = CareHistory(
        visits=[Visit(VISIT, "therapy")], deceased_at=april.start + dt.timedelta(days=3)
    )
    assert churn.month_outcome(churn.spells(died, RULES), died, april)[1] is False


def test_opting_back_in_ends_the_span_left_out():
    back = VISIT + dt.timedelta(days=20)
    history = CareHistory(opted_out=[(VISIT, back)])
    assert history.excluded_at(back - SECOND) is Exclusion.OPTED_OUT
    assert history.excluded_at(back) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("therapy=90,psychiatry=60,other=120", ({"therapy": 90, "psychiatry": 60}, 120)),
        ("45", ({}, 45)),
    ],
)
def test_the_lapse_days_setting_reads_pairs_or_one_number(raw, expected):
    assert churn.parse_lapse_days(raw) == expected


@pytest.mark.parametrize("raw", ["therapy", "therapy=0", "therapy=soon", "=90"])
def test_a_lapse_days_setting_that_cannot_be_read_says_why(raw):
    with pytest.raises(ValueError):
        churn.parse_lapse_days(raw)


def test_retention_counts_who_is_in_care_a_year_on_whether_or_not_they_lapsed_between():
    start, end = VISIT + dt.timedelta(days=10), VISIT + dt.timedelta(days=375)
    stayed = CareHistory(
        visits=[Visit(VISIT + dt.timedelta(days=80 * n), "therapy") for n in range(5)]
    )
    came_back = CareHistory(
        visits=[Visit(VISIT, "therapy"), Visit(VISIT + dt.timedelta(days=300), "therapy")]
    )
    gone = CareHistory(visits=[Visit(VISIT, "therapy")])
    died = CareHistory(visits=stayed.visits, deceased_at=end - dt.timedelta(days=1))

    def retained(history: CareHistory) -> tuple[bool, bool]:
        return churn.retained(churn.spells(history, RULES), history, start, end)

    assert retained(stayed) == (True, True)
    assert retained(came_back) == (True, True)
    assert retained(gone) == (True, False)
    assert retained(died) == (False, False)
