"""The win-back suggestion in the queue: it arrives when the clock passes the lapse (the job on
the clock, no event needed), leaves when a visit is booked, and the queue's rows rebuild from
the log and from the bulk pass exactly as the follower wrote them (I5)."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.projections import runner
from engagement import bulk
from engagement.models import PatientAgenda, Suggestion
from engagement.projection import PROJECTION, reevaluate_due
from tests.crm import churn_story as story
from tests.engagement.conftest import of_kind
from tests.engagement.test_projection import dump

pytestmark = pytest.mark.django_db

VISIT = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)  # 11 AM in New York
LAPSE = VISIT + dt.timedelta(days=90)


def test_the_clock_brings_the_win_back_call_due_and_a_booking_takes_it_away(clock):
    patient = story.patient(1)
    story.visit(patient, VISIT)
    clock.set(LAPSE - dt.timedelta(days=1))
    runner.catch_up(PROJECTION)

    assert of_kind(patient, "re_engage") == []
    assert PatientAgenda.objects.get(patient_id=patient).next_evaluation_at == LAPSE

    reevaluate_due(now=LAPSE + dt.timedelta(hours=1))

    (win_back,) = of_kind(patient, "re_engage")
    assert (win_back.status, win_back.opened_at, win_back.priority) == ("open", LAPSE, 14)
    assert win_back.reason.startswith("Lapsed from care Tue Sep 8, 2026: last visit Wed Jun 10")

    booked_at = LAPSE + dt.timedelta(days=2)
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.THERAPY,
        starts_at=booked_at + dt.timedelta(days=5),
        provider="Dr. Quinn",
        location="Main",
        actor=story.ACTOR,
        now=booked_at,
        occurred_at=booked_at,
    )
    clock.set(booked_at + dt.timedelta(hours=1))
    runner.catch_up(PROJECTION)

    (done,) = of_kind(patient, "re_engage")
    assert (done.status, done.closed_by) == ("done", "rule")
    assert done.closed_reason.startswith("A visit was booked")


def test_the_queue_with_win_backs_rebuilds_and_bulk_evaluates_to_the_live_rows(clock):
    the_end = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
    clock.set(the_end)
    story.random_care(seed=618, patients=24)
    runner.catch_up(PROJECTION, batch_size=11)
    live = dump()

    runner.rebuild(PROJECTION, batch_size=500)
    rebuilt = dump()
    bulk.evaluate_all(now=the_end)

    assert Suggestion.objects.filter(kind="re_engage").count() >= 5
    assert {"open", "done"} <= set(
        Suggestion.objects.filter(kind="re_engage").values_list("status", flat=True)
    )
    assert rebuilt == live == dump()
