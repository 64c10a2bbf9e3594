"""The desk's calls API: whose call it was (a household, an unknown caller) and the agent's
wrap-up, added to that same call before or after it is logged; the figures see it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.conf import settings
from django.utils import timezone

from crm import eventstore
from crm.domain import events as ev
from crm.models import AccessLogEntry, ContactReason, LiveCall, LoggedCall
from crm.projections import runner
from crm.selectors.metrics import supervisor_figures
from tests.voice.conftest import logged_calls, wrap_ups

pytestmark = pytest.mark.django_db
ROWAN = "+16175550134"
CALLS = "/api/v1/desk/calls/"


def _attribute(client, sid, patient):  # type: ignore[no-untyped-def]
    return client.post(f"{CALLS}{sid}/attribute/", {"patient_id": str(patient)}, format="json")


def _wrap_up(client, sid, **body):  # type: ignore[no-untyped-def]
    return client.post(f"{CALLS}{sid}/wrap-up/", body, format="json")


def test_the_desk_lists_held_calls_and_the_agent_says_whose_it_was(twilio, register, agent):
    rowan = register()
    sky = register(first_name="Sky")
    call = twilio.call(ROWAN)
    call.answered(queue_seconds=20, talk_seconds=100)

    held = agent.get(CALLS, {"state": "held"})
    assert [c["call_sid"] for c in held.json()] == [call.sid]
    assert sorted(held.json()[0]["candidates"]) == sorted([str(rowan), str(sky)])

    response = _attribute(agent, call.sid, sky)

    assert response.status_code == 200
    assert response.json()["state"] == "ended" and response.json()["logged"] is True
    (logged,) = logged_calls(sky)
    assert logged.call_sid == call.sid and logged.disposition is ev.CallDisposition.CONNECTED
    assert logged_calls(rowan) == []
    # Said again, it stands; for another patient, it is refused.
    assert _attribute(agent, call.sid, sky).status_code == 200
    refused = _attribute(agent, call.sid, rowan)
    assert refused.status_code == 409
    assert len(logged_calls(sky)) == 1 and logged_calls(rowan) == []


def test_a_call_attributed_while_live_is_logged_on_that_patient_when_it_ends(
    twilio, register, agent
):
    register()
    sky = register(first_name="Sky")
    call = twilio.call(ROWAN)
    call.ring()
    call.left_queue("bridged", 10)

    assert _attribute(agent, call.sid, sky).json()["state"] == "live"
    call.status("completed", duration=70)

    (logged,) = logged_calls(sky)
    assert logged.duration_seconds == 60  # after 10 s in the queue


def test_an_unknown_caller_is_logged_once_registered_and_attributed(twilio, register, agent):
    call = twilio.call("+16175550177")
    call.abandoned(queue_seconds=40)
    assert LiveCall.objects.get(call_sid=call.sid).state == "held"

    newcomer = register(first_name="Noor", phone="(617) 555-0177")
    response = _attribute(agent, call.sid, newcomer)

    assert response.status_code == 200
    (logged,) = logged_calls(newcomer)
    assert logged.disposition is ev.CallDisposition.ABANDONED and logged.queue_seconds == 40


def test_an_unknown_call_is_a_404_and_an_unknown_patient_a_400(twilio, register, agent):
    call = twilio.call("+16175550177")
    call.abandoned()
    patient = register()

    assert _attribute(agent, "CA" + "f" * 32, patient).status_code == 404
    nobody = _attribute(agent, call.sid, "5f0c2b2e-8d0a-4a8e-9a43-3f1b7c1d2e4f")
    assert nobody.status_code == 400 and "patient_id" in nobody.json()["errors"]
    assert agent.get(f"{CALLS}{'CA' + 'f' * 32}/").status_code == 404


def _figures(day: dt.date):  # type: ignore[no-untyped-def]
    runner.catch_up_all()
    later = timezone.now() + dt.timedelta(days=30)
    return supervisor_figures(start=day, end=day, now=later).total


def _today() -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def test_a_wrap_up_after_the_call_is_logged_completes_that_call(twilio, register, agent):
    patient = register()
    call = twilio.call(ROWAN)
    call.answered()

    response = _wrap_up(
        agent,
        call.sid,
        reason_code="billing",
        resolved_first_contact=True,
        note="Explained the statement.",
        wrap_up_seconds=45,
    )

    assert response.status_code == 200
    assert response.json()["wrap_up"]["reason_code"] == "billing"
    (logged,) = logged_calls(patient)
    (wrapped,) = wrap_ups(patient)
    assert wrapped.call_id == logged.call_id and wrapped.resolved_first_contact
    billing = ContactReason.objects.get(code="billing").label
    assert (wrapped.reason_code, wrapped.reason) == ("billing", billing)
    assert wrapped.agent == "agent.avery" and wrapped.note == "Explained the statement."
    # One call on the timeline, its wrap-up on it; the figures see its reason, resolved.
    timeline = agent.get(f"/api/v1/patients/{patient}/timeline/").json()["results"]
    assert [e["type"] for e in timeline if e["type"].startswith("Call")] == [
        "CallWrappedUp",
        "CallLogged",
    ]
    figures = _figures(_today())
    assert (figures.first_contacts, figures.resolved_first_contact) == (1, 1)
    row = LoggedCall.objects.get(call_id=logged.call_id)
    assert (row.reason_key, row.resolved_first_contact, row.wrap_up_seconds) == (
        "billing",
        True,
        45,
    )


def test_a_wrap_up_before_the_call_is_logged_is_kept_and_added_when_it_is(twilio, register, agent):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    call.left_queue("bridged", 15)

    pending = _wrap_up(agent, call.sid, reason_code="billing", resolved_first_contact=True)
    assert pending.status_code == 200 and pending.json()["logged"] is False
    assert logged_calls(patient) == []
    call.status("completed", duration=200)

    (logged,) = logged_calls(patient)
    (wrapped,) = wrap_ups(patient)
    assert wrapped.call_id == logged.call_id and wrapped.reason_code == "billing"
    assert logged.agent == "agent.avery"
    figures = _figures(_today())
    assert (figures.first_contacts, figures.resolved_first_contact) == (1, 1)


def test_a_second_wrap_up_corrects_the_first_and_the_same_one_again_records_nothing(
    twilio, register, agent
):
    patient = register()
    call = twilio.call(ROWAN)
    call.answered()

    _wrap_up(agent, call.sid, reason_code="billing", resolved_first_contact=True)
    _wrap_up(agent, call.sid, reason_code="billing", resolved_first_contact=True)
    _wrap_up(agent, call.sid, reason_code="other", reason="Parking", resolved_first_contact=False)

    assert [w.reason_code for w in wrap_ups(patient)] == ["billing", "other"]
    assert len(logged_calls(patient)) == 1
    runner.catch_up_all()
    row = LoggedCall.objects.get(call_id=logged_calls(patient)[0].call_id)
    assert (row.reason_key, row.resolved_first_contact) == ("other", False)


def test_a_wrap_up_that_cannot_be_is_refused_naming_the_field(twilio, register, agent):
    patient = register()
    call = twilio.call(ROWAN)
    call.abandoned()

    unknown_reason = _wrap_up(agent, call.sid, reason_code="astrology")
    resolved_abandoned = _wrap_up(agent, call.sid, resolved_first_contact=True)
    too_long = _wrap_up(agent, call.sid, note="x" * 2001)

    assert unknown_reason.status_code == 400 and "reason_code" in unknown_reason.json()["errors"]
    assert resolved_abandoned.status_code == 400
    assert "resolved_first_contact" in resolved_abandoned.json()["errors"]
    assert too_long.status_code == 400 and "note" in too_long.json()["errors"]
    assert wrap_ups(patient) == []
    assert _wrap_up(agent, "CA" + "e" * 32, reason="x").status_code == 404


def test_every_patient_a_call_names_is_in_the_access_audit(twilio, register, agent):
    rowan = register()
    sky = register(first_name="Sky")
    twilio.call(ROWAN).answered()

    agent.get(CALLS)

    audited = set(
        AccessLogEntry.objects.filter(endpoint__contains="calls").values_list(
            "patient_id", flat=True
        )
    )
    assert audited == {rowan, sky}


def test_the_calls_list_filters_by_state_and_refuses_an_unknown_one(twilio, register, agent):
    register()
    live = twilio.call(ROWAN)
    live.ring()
    twilio.call(ROWAN).answered()

    assert [c["call_sid"] for c in agent.get(CALLS, {"state": "live"}).json()] == [live.sid]
    assert [c["call_sid"] for c in agent.get(CALLS).json()] == [live.sid]  # the desk's work
    assert len(agent.get(CALLS, {"state": "ended"}).json()) == 1
    assert agent.get(CALLS, {"state": "ringing"}).status_code == 400
    assert eventstore  # the store is only read through the helpers above


@pytest.mark.parametrize(
    "sid", ["CA" + "0" * 400, "CA%00" + "0" * 30, "not-a-call", "%F0%9F%93%9E"]
)
def test_a_sid_no_call_can_have_is_a_404(agent, sid):
    assert agent.get(f"{CALLS}{sid}/").status_code == 404
    assert _wrap_up(agent, sid, reason="x").status_code == 404


def test_a_wrap_up_recorded_after_the_call_ended_is_the_agents_own(twilio, register, agent):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    _wrap_up(agent, call.sid, reason_code="billing")
    call.left_queue("bridged", 5)
    call.status("completed", duration=65)

    (recorded,) = [r for r in eventstore.read_stream(patient) if r.event_type == "CallWrappedUp"]

    assert recorded.metadata["actor"] == "agent.avery"
    assert recorded.metadata["actor_id"] == agent.user.pk
    assert recorded.metadata["channel"] == "api"
