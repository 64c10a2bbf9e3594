"""Agents racing for one suggestion, on real PostgreSQL connections: exactly one claim
wins, every other agent is told who holds it, and the stream records one claim."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner
from engagement import handlers as suggestion_handlers
from engagement.domain.decisions import SuggestionHeld
from engagement.projection import PROJECTION
from tests.api.conftest import stream
from tests.threads import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")


def _missed_call(patient_id) -> str:  # type: ignore[no-untyped-def]
    result = handlers.call_log(
        patient_id=patient_id,
        direction=ev.CallDirection.INBOUND,
        started_at=timezone.now() - dt.timedelta(minutes=10),
        duration_seconds=0,
        disposition=ev.CallDisposition.ABANDONED,
        actor=DESK,
    )
    runner.catch_up(PROJECTION)
    return f"callback.{result.events[0].event.call_id}.{patient_id}"  # type: ignore[attr-defined]


def test_two_agents_claiming_at_once_one_wins_the_other_gets_409_naming_the_winner(
    agent, front_desk, patient
):
    callback = _missed_call(patient)
    clients = [agent, front_desk]

    responses = together(
        2, lambda i: clients[i].post(f"/api/v1/suggestions/{callback}/claim/", {}, format="json")
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()["claimed_by"]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["claimed_by"] == winner
    assert winner in loser["detail"]
    assert stream(patient).count("SuggestionClaimed") == 1


def test_eight_agents_racing_for_one_suggestion_leave_exactly_one_claim(patient):
    callback = _missed_call(patient)

    outcomes = together(
        8,
        lambda i: suggestion_handlers.suggestion_claim(
            patient_id=patient,
            suggestion_id=callback,
            actor=Actor(name=f"agent.{i}", channel="api", role="agent"),
        ),
    )

    winners = [o for o in outcomes if not isinstance(o, Exception)]
    refusals = [o for o in outcomes if isinstance(o, SuggestionHeld)]
    assert len(winners) == 1 and len(refusals) == 7
    holder = winners[0].events[0].event.agent
    assert {r.holder for r in refusals} == {holder}
    assert stream(patient).count("SuggestionClaimed") == 1
