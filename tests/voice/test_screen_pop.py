"""The pushed screen pop: for each agent, the lookup's own body for the caller's number (one
function for both), plus the call's sid, its place in line and whether it went first."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm import handlers
from crm.api.lookup import caller_lookup
from crm.desk import feed
from crm.models import DeskEvent
from crm.voice import screen_pop
from tests.voice.conftest import in_crisis

pytestmark = pytest.mark.django_db
ROWAN = "+16175550134"


def _pop() -> feed.FeedEvent:
    row = DeskEvent.objects.filter(kind="screen_pop").latest("id")
    return feed.FeedEvent(row.id, row.kind, row.data, row.user_id, row.created_at)


def test_the_pop_is_the_lookups_body_with_the_call(twilio, register, agent, actor):
    patient = register()
    handlers.note_add(patient_id=patient, text="Prefers mornings", actor=actor, restricted=True)
    call = twilio.call(ROWAN)
    call.ring()

    body, notes = feed.render(_pop(), agent.user)

    looked_up = caller_lookup(ROWAN, picked=None, user=agent.user, now=timezone.now())
    assert {k: v for k, v in body.items() if k not in screen_pop.EXTRA} == looked_up.body
    assert body["call_sid"] == call.sid and body["queue_position"] == 1
    assert body["crisis_first"] is False
    assert body["patient"]["patient_id"] == str(patient)
    # Restricted notes follow the agent's role, as in the lookup: an agent sees none.
    assert "Prefers mornings" not in str(body)
    assert [(n.patient_id, n.outcome) for n in notes] == [(patient, "screen_pop")]
    # Twilio was told nothing of it; the feed's row holds ids, never the record.
    assert "Rowan" not in str(DeskEvent.objects.get(kind="screen_pop").data)


def test_a_crisis_callers_pop_says_so(twilio, register, agent, actor):
    patient = register()
    in_crisis(patient, actor)
    twilio.call(ROWAN).ring()

    body, _ = feed.render(_pop(), agent.user)

    assert body["crisis_first"] is True
    assert body["patient"]["crisis_flag"] is True


def test_a_household_pops_its_candidates_and_an_unknown_caller_pops_nobody(twilio, register, agent):
    register()
    register(first_name="Sky")
    twilio.call(ROWAN).ring()
    household, household_notes = feed.render(_pop(), agent.user)
    twilio.call("anonymous").ring()
    unknown, unknown_notes = feed.render(_pop(), agent.user)

    assert household["match_count"] == 2 and household["patient"] is None
    assert {c["first_name"] for c in household["candidates"]} == {"Rowan", "Sky"}
    assert len(household_notes) == 2
    assert unknown["match_count"] == 0 and unknown["phone"] == ""
    assert [(n.patient_id, n.outcome) for n in unknown_notes] == [(None, "screen_pop")]
