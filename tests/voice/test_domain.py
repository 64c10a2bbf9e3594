"""The rules of a call's facts, without a database: callbacks in any order and any number
of times add up to one outcome; crisis callers go first whatever their number."""

from __future__ import annotations

import functools
import itertools

import pytest

from crm.domain.events import CallDisposition, CallLogged, deserialize
from crm.voice.domain import CallFacts, CallStatus, QueueResult, caller_number, outcome, route

ANSWERED = [
    ("queue", QueueResult.BRIDGED, 30),
    ("status", CallStatus.IN_PROGRESS, None),
    ("status", CallStatus.COMPLETED, 300),
]


def _apply(facts: CallFacts, step: tuple[str, object, int | None], sequence: int) -> CallFacts:
    kind, value, seconds = step
    if kind == "queue":
        assert isinstance(value, QueueResult)
        return facts.with_queue(value, seconds)
    assert isinstance(value, CallStatus)
    return facts.with_status(value, sequence=sequence, duration_seconds=seconds)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_callbacks_in_any_order_and_repeated_give_one_outcome(order: tuple[int, ...]) -> None:
    facts = CallFacts(enqueued=True)
    sequences = {1: 0, 2: 1}  # the status callbacks' SequenceNumber, as Twilio numbered them
    for index in [*order, *order]:  # every callback, then every retry
        facts = _apply(facts, ANSWERED[index], sequences.get(index, 0))

    result = outcome(facts)

    assert result is not None
    assert result.disposition is CallDisposition.CONNECTED
    assert (result.duration_seconds, result.talk_seconds, result.queue_seconds) == (300, 270, 30)


def test_an_enqueued_call_waits_for_the_queues_result() -> None:
    facts = CallFacts(enqueued=True).with_status(
        CallStatus.COMPLETED, sequence=3, duration_seconds=40
    )

    assert outcome(facts) is None
    assert outcome(facts.with_queue(QueueResult.HANGUP, 38)) is not None


def test_a_live_call_has_no_outcome_yet() -> None:
    facts = CallFacts(enqueued=True).with_queue(QueueResult.BRIDGED, 5)

    assert outcome(facts) is None


@pytest.mark.parametrize(
    ("status", "result", "disposition"),
    [
        (CallStatus.COMPLETED, QueueResult.BRIDGED, CallDisposition.CONNECTED),
        (CallStatus.COMPLETED, QueueResult.REDIRECTED_FROM_BRIDGED, CallDisposition.CONNECTED),
        (CallStatus.COMPLETED, QueueResult.HANGUP, CallDisposition.ABANDONED),
        (CallStatus.COMPLETED, QueueResult.QUEUE_FULL, CallDisposition.MISSED),
        (CallStatus.COMPLETED, QueueResult.LEAVE, CallDisposition.MISSED),
        (CallStatus.COMPLETED, QueueResult.ERROR, CallDisposition.MISSED),
        (CallStatus.COMPLETED, QueueResult.SYSTEM_ERROR, CallDisposition.MISSED),
        (CallStatus.BUSY, None, CallDisposition.BUSY),
        (CallStatus.NO_ANSWER, None, CallDisposition.NO_ANSWER),
        (CallStatus.FAILED, None, CallDisposition.MISSED),
        (CallStatus.CANCELED, None, CallDisposition.MISSED),
    ],
)
def test_each_ending_has_its_disposition(
    status: CallStatus, result: QueueResult | None, disposition: CallDisposition
) -> None:
    facts = CallFacts(enqueued=True).with_status(status, sequence=1, duration_seconds=60)
    if result is not None:
        facts = facts.with_queue(result, 20)

    ended = outcome(facts)

    assert ended is not None and ended.disposition is disposition
    assert ended.talk_seconds == (40 if disposition is CallDisposition.CONNECTED else 0)


def test_a_late_progress_status_never_takes_an_ended_call_back() -> None:
    facts = CallFacts(enqueued=True).with_status(
        CallStatus.COMPLETED, sequence=4, duration_seconds=90
    )

    later = facts.with_status(CallStatus.RINGING, sequence=None, duration_seconds=None)

    assert later == facts


def test_a_queue_time_longer_than_the_call_is_capped_by_it() -> None:
    facts = (
        CallFacts(enqueued=True)
        .with_queue(QueueResult.HANGUP, 500)
        .with_status(CallStatus.COMPLETED, sequence=2, duration_seconds=100)
    )

    ended = outcome(facts)

    assert ended is not None and ended.queue_seconds == 100


@pytest.mark.parametrize(
    "raw", ["anonymous", "Anonymous", "+266696687", "client:agent1", "sip:a@b.example", "", " "]
)
def test_a_withheld_or_non_phone_caller_has_no_number(raw: str) -> None:
    assert caller_number(raw) is None


def test_a_crisis_caller_goes_first_by_queue_or_by_priority() -> None:
    routed = functools.partial(
        route, queue="clinic", crisis_queue="clinic-priority", crisis_priority=100
    )

    plain = routed(crisis=True, workflow_sid="")
    tasked = routed(crisis=True, workflow_sid="WW" + "1" * 32)
    usual = routed(crisis=False, workflow_sid="WW" + "1" * 32)

    assert (plain.queue, plain.crisis_first, plain.priority) == ("clinic-priority", True, 0)
    assert (tasked.priority, usual.priority) == (100, 0)
    assert routed(crisis=False, workflow_sid="").queue == "clinic"


def test_a_call_that_ended_without_reaching_the_queue_was_missed() -> None:
    facts = CallFacts(enqueued=False).with_status(
        CallStatus.COMPLETED, sequence=2, duration_seconds=6
    )

    ended = outcome(facts)

    assert ended is not None and ended.disposition is CallDisposition.MISSED


def test_a_call_logged_by_hand_before_the_phone_system_reads_with_no_sid_and_no_queue() -> None:
    stored = {
        "call_id": "5f0c2b2e-8d0a-4a8e-9a43-3f1b7c1d2e4f",
        "direction": "inbound",
        "channel": "voice",
        "agent": "agent.one",
        "started_at": "2026-11-03T14:30:00+00:00",
        "duration_seconds": 240,
        "disposition": "connected",
        "reason_code": "billing",
        "reason": "Billing or insurance",
    }

    event = deserialize("CallLogged", 3, stored)

    assert isinstance(event, CallLogged)
    assert (event.call_sid, event.queue_seconds, event.reason_code) == ("", 0, "billing")
    assert CallLogged.schema_version == 4
