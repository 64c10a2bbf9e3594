"""Calls whose callbacks stopped short are ended by the settling job from what is known, once:
not before the grace, a missed call's callback suggested, a late callback changing nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule

from crm import eventstore
from crm.domain import events as ev
from crm.models import DeskEvent, LiveCall
from crm.projections import runner
from crm.voice import domain, tasks
from crm.voice.settle import calls_settle_stale
from engagement.models import Suggestion
from tests.threads import together
from tests.voice.conftest import logged_calls
from tests.voice.twilio_voice import Twilio

ROWAN = "+16175550134"
GRACE = 120
LONGEST = 4 * 3600
CallStatus, QueueResult = domain.CallStatus, domain.QueueResult


@pytest.fixture(autouse=True)
def _waits(settings):  # type: ignore[no-untyped-def]
    settings.VOICE_SETTLE_AFTER_SECONDS = GRACE
    settings.VOICE_LONGEST_CALL_SECONDS = LONGEST


def later(seconds: int) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def callbacks(patient):  # type: ignore[no-untyped-def]
    runner.catch_up_all()
    return list(Suggestion.objects.filter(patient_id=patient, kind="callback"))


def stale(facts: domain.CallFacts, *, age: int, quiet: int, wrapped_up: bool = False):  # type: ignore[no-untyped-def]
    return domain.stale_outcome(
        facts,
        age_seconds=age,
        quiet_seconds=quiet,
        wrapped_up=wrapped_up,
        grace_seconds=GRACE,
        longest_seconds=LONGEST,
    )


# --- the rule, without a database --------------------------------------------------------

ENDED = domain.CallFacts(
    enqueued=True, status=CallStatus.COMPLETED, sequence=3, duration_seconds=95
)
LEFT_QUEUE = domain.CallFacts(enqueued=True, queue_result=QueueResult.BRIDGED, queue_seconds=20)
RINGING = domain.CallFacts(enqueued=True, status=CallStatus.RINGING, sequence=0)


def test_an_ended_call_waits_the_grace_for_its_queue_result_then_counts_as_missed():
    assert stale(ENDED, age=300, quiet=GRACE - 1) is None

    settled = stale(ENDED, age=300, quiet=GRACE)

    assert settled is not None
    # Nobody is known to have answered, nor the caller to have hung up in the queue.
    assert settled.outcome == domain.Outcome(ev.CallDisposition.MISSED, 95, 0, 95)
    assert "queue's result never came" in settled.why


def test_an_agents_wrap_up_says_the_call_was_answered():
    settled = stale(ENDED, age=300, quiet=GRACE, wrapped_up=True)

    assert settled is not None
    assert settled.outcome.disposition is ev.CallDisposition.CONNECTED
    assert settled.outcome.talk_seconds == 95


def test_a_queue_result_without_an_ended_status_lasts_from_the_ring_to_that_result():
    assert stale(LEFT_QUEUE, age=400, quiet=GRACE - 1) is None

    settled = stale(LEFT_QUEUE, age=400, quiet=150)

    assert settled is not None
    assert settled.outcome == domain.Outcome(ev.CallDisposition.CONNECTED, 250, 230, 20)
    bridging = dataclasses.replace(LEFT_QUEUE, queue_result=QueueResult.BRIDGING)
    assert stale(bridging, age=LONGEST - 1, quiet=LONGEST - 100) is None  # still talking
    assert stale(bridging, age=LONGEST, quiet=LONGEST - 100) is not None
    hung_up = domain.CallFacts(enqueued=True, queue_result=QueueResult.HANGUP, queue_seconds=40)
    told = stale(hung_up, age=400, quiet=350)
    assert told is not None and told.outcome.disposition is ev.CallDisposition.ABANDONED


def test_a_call_heard_of_no_more_is_missed_only_after_the_longest_call_twilio_allows():
    assert stale(RINGING, age=LONGEST, quiet=LONGEST) is None

    settled = stale(RINGING, age=LONGEST + GRACE, quiet=LONGEST + GRACE - 5)

    assert settled is not None
    assert settled.outcome.disposition is ev.CallDisposition.MISSED
    assert settled.outcome.duration_seconds == 5  # from the ring to the last we heard
    assert "neither" in settled.why


# --- the job -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_call_whose_queue_result_never_comes_is_logged_missed_after_the_grace_not_before(
    twilio, register, caplog
):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    call.status("completed", duration=95)

    assert calls_settle_stale(now=later(GRACE - 30)) == []
    assert logged_calls(patient) == []
    assert LiveCall.objects.get(call_sid=call.sid).state == "live"

    with caplog.at_level(logging.WARNING, logger="crm.voice.settle"):
        (ended,) = calls_settle_stale(now=later(GRACE + 1))

    (logged,) = logged_calls(patient)
    assert logged.call_sid == call.sid and logged.disposition is ev.CallDisposition.MISSED
    assert logged.duration_seconds == 95
    (recorded,) = [r for r in eventstore.read_stream(patient) if r.event == logged]
    assert recorded.metadata["actor"] == "system:voice-settle"
    assert ended.state == "ended" and ended.disposition == "missed"
    assert call.sid in caplog.text and "queue's result never came" in caplog.text
    (suggestion,) = callbacks(patient)
    assert "missed" in suggestion.reason.lower()
    assert DeskEvent.objects.filter(kind="call_ended").count() == 1
    assert calls_settle_stale(now=later(GRACE + 60)) == []  # once


@pytest.mark.django_db
def test_the_late_queue_callback_after_settling_logs_nothing_more_and_changes_nothing(
    twilio, register, caplog
):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    call.status("completed", duration=95)
    calls_settle_stale(now=later(GRACE + 1))
    before = LiveCall.objects.values().get(call_sid=call.sid)

    with caplog.at_level(logging.WARNING, logger="crm.voice.handlers"):
        response = call.left_queue("bridged", 20, status="completed")
        call.status("completed", duration=95)  # and a retry of the status

    assert response.status_code == 200
    (logged,) = logged_calls(patient)
    assert logged.disposition is ev.CallDisposition.MISSED
    after = LiveCall.objects.values().get(call_sid=call.sid)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert DeskEvent.objects.filter(kind="call_ended").count() == 1
    assert "says connected: ignored" in caplog.text


@pytest.mark.django_db
def test_a_number_without_the_status_url_still_logs_each_call_from_the_queue_result(
    twilio, register
):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    call.left_queue("hangup", 40, status="completed")

    assert calls_settle_stale(now=later(GRACE - 1)) == []
    calls_settle_stale(now=later(GRACE + 1))

    (logged,) = logged_calls(patient)
    assert logged.disposition is ev.CallDisposition.ABANDONED
    (suggestion,) = callbacks(patient)
    assert "abandoned" in suggestion.reason.lower()


@pytest.mark.django_db
def test_a_call_with_no_callback_at_all_is_logged_missed_after_four_hours(twilio, register, caplog):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()

    assert calls_settle_stale(now=later(LONGEST)) == []
    with caplog.at_level(logging.WARNING, logger="crm.voice.settle"):
        calls_settle_stale(now=later(LONGEST + GRACE + 1))

    (logged,) = logged_calls(patient)
    assert logged.disposition is ev.CallDisposition.MISSED
    assert "neither its ended status nor the queue's result came" in caplog.text
    assert len(callbacks(patient)) == 1


@pytest.mark.django_db
def test_a_settled_household_call_is_held_on_the_desk_until_the_agent_says_whose(
    twilio, register, agent
):
    parent = register(first_name="Avery")
    register(first_name="Blake")
    call = twilio.call(ROWAN)
    call.ring()
    call.status("completed", duration=60)

    calls_settle_stale(now=later(GRACE + 1))

    held = agent.get("/api/v1/desk/calls/", {"state": "held"}).json()
    assert [c["call_sid"] for c in held] == [call.sid]
    assert held[0]["disposition"] == "missed"
    answer = agent.post(
        f"/api/v1/desk/calls/{call.sid}/attribute/", {"patient_id": str(parent)}, format="json"
    )
    assert answer.status_code == 200
    (logged,) = logged_calls(parent)
    assert logged.disposition is ev.CallDisposition.MISSED


@pytest.mark.django_db
def test_the_settling_job_is_installed_to_run_every_minute():
    call_command("install_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115

    job = Schedule.objects.get(func=tasks.JOB)
    assert job.minutes == 1 and job.repeats == -1


@pytest.mark.django_db
def test_the_job_counts_the_calls_it_ended(twilio, register):
    register()
    call = twilio.call(ROWAN)
    call.ring()
    call.status("completed", duration=30)
    LiveCall.objects.filter(call_sid=call.sid).update(updated_at=later(-GRACE - 1))

    assert tasks.settle_stale_calls() == {"missed": 1}


# --- racing ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_job_and_the_late_callback_at_once_log_the_call_once(register):
    patient = register()
    call = Twilio(Client()).call(ROWAN)
    call.ring()
    call.status("completed", duration=95)

    def race(i: int) -> object:
        if i < 2:  # the job, on two workers at once
            return calls_settle_stale(now=later(GRACE + 1))
        same = Twilio(Client()).call(ROWAN, sid=call.sid)
        return same.left_queue("bridged", 20, status="completed").status_code

    results = together(5, race)

    assert results[2:] == [200] * 3
    assert sum(len(ended) for ended in results[:2]) <= 1  # type: ignore[arg-type]
    (logged,) = logged_calls(patient)
    assert logged.disposition in (ev.CallDisposition.MISSED, ev.CallDisposition.CONNECTED)
    assert DeskEvent.objects.filter(kind="call_ended").count() == 1
    assert LiveCall.objects.get(call_sid=call.sid).state == "ended"
