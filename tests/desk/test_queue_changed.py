"""The suggestions projection tells the desks when a batch changed the queue: what opened,
was claimed or released, snoozed, and closed; a batch that changed nothing says nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import DeskEvent
from crm.projections import runner
from engagement import handlers as suggestion_handlers
from engagement.projection import PROJECTION

pytestmark = pytest.mark.django_db

DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")
AGENT = Actor(name="agent.avery", channel="api", role="agent")


def changes() -> list[dict[str, Any]]:
    return list(DeskEvent.objects.filter(kind="queue_changed").values_list("data", flat=True))


def missed_call(patient_id) -> str:  # type: ignore[no-untyped-def]
    result = handlers.call_log(
        patient_id=patient_id,
        direction=ev.CallDirection.INBOUND,
        started_at=timezone.now() - dt.timedelta(minutes=30),
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=DESK,
    )
    return f"callback.{result.events[0].event.call_id}.{patient_id}"  # type: ignore[attr-defined]


def test_a_missed_call_then_its_claim_and_its_completion_each_move_the_queue(register):
    patient = register()
    runner.catch_up(PROJECTION)
    DeskEvent.objects.all().delete()
    callback = missed_call(patient)

    runner.catch_up(PROJECTION)
    suggestion_handlers.suggestion_claim(patient_id=patient, suggestion_id=callback, actor=AGENT)
    runner.catch_up(PROJECTION)
    suggestion_handlers.suggestion_complete(
        patient_id=patient, suggestion_id=callback, outcome="reached", actor=AGENT
    )
    runner.catch_up(PROJECTION)

    created, claimed, closed = changes()
    assert callback in created["created"] and created["claimed"] == []
    assert claimed["claimed"] == [callback] and claimed["created"] == []
    assert closed["closed"] == [callback] and closed["truncated"] is False


def test_a_batch_that_leaves_the_queue_as_it_was_publishes_nothing(register):
    patient = register()
    runner.catch_up(PROJECTION)
    DeskEvent.objects.all().delete()

    handlers.note_add(patient_id=patient, text="Prefers mornings.", actor=DESK)
    runner.catch_up(PROJECTION)

    assert changes() == []
