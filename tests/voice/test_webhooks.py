"""A call comes in and ends: the caller is put in line with valid TwiML, the desk gets one pop,
and the call is logged once on the patient's stream with how it ended."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from crm.domain import events as ev
from crm.models import DeskEvent, LiveCall
from crm.projections import runner
from engagement.models import Suggestion
from tests.voice.conftest import in_crisis, logged_calls
from tests.voice.twilio_voice import INCOMING, STATUS, Twilio, sign, twiml

pytestmark = pytest.mark.django_db
ROWAN = "+16175550134"


def test_a_known_caller_waits_in_the_clinics_queue_and_the_desk_gets_one_pop(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)

    response = call.ring()

    assert response.status_code == 200
    root = twiml(response)
    (enqueue,) = list(root)
    assert enqueue.tag == "Enqueue" and enqueue.text == "clinic"
    assert enqueue.get("action") == f"http://testserver{STATUS}"
    (pop,) = DeskEvent.objects.filter(kind="screen_pop")
    assert pop.data["call_sid"] == call.sid
    assert pop.data["patient_ids"] == [str(patient)]
    assert pop.data["crisis"] is False and pop.data["queue_position"] == 1
    # Twilio learns the queue, nothing of the patient.
    assert "Rowan" not in response.content.decode()


def test_an_answered_call_is_logged_once_as_connected_with_talk_and_queue_time(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)

    call.answered(queue_seconds=30, talk_seconds=240)

    (logged,) = logged_calls(patient)
    assert logged.disposition is ev.CallDisposition.CONNECTED
    assert logged.direction is ev.CallDirection.INBOUND
    assert logged.call_sid == call.sid
    # The call, for the clinic, is the agent's part: the wait before it is its queue time.
    assert (logged.duration_seconds, logged.queue_seconds, logged.hold_seconds) == (240, 30, 0)
    (ended,) = DeskEvent.objects.filter(kind="call_ended")
    assert ended.data["disposition"] == "connected" and ended.data["logged"] is True
    assert ended.data["talk_seconds"] == 240 and ended.data["queue_seconds"] == 30
    assert LiveCall.objects.get(call_sid=call.sid).state == "ended"


# --- how calls end -------------------------------------------------------------------------


def _ended(twilio, register, steps):  # type: ignore[no-untyped-def]
    patient = register()
    call = twilio.call(ROWAN)
    assert call.ring().status_code == 200
    for step in steps:
        assert step(call).status_code == 200
    return patient, call


@pytest.mark.parametrize(
    ("steps", "disposition", "talk", "queued"),
    [
        (
            [lambda c: c.left_queue("bridged", 20), lambda c: c.status("completed", duration=200)],
            ev.CallDisposition.CONNECTED,
            180,
            20,
        ),
        (
            [
                lambda c: c.left_queue("hangup", 50, status="completed"),
                lambda c: c.status("completed", duration=52),
            ],
            ev.CallDisposition.ABANDONED,
            0,
            50,
        ),
        (
            [
                lambda c: c.left_queue("queue-full", 0),
                lambda c: c.status("completed", duration=12),
            ],
            ev.CallDisposition.MISSED,
            0,
            0,
        ),
        (
            [lambda c: c.left_queue("leave", 300), lambda c: c.status("completed", duration=310)],
            ev.CallDisposition.MISSED,
            0,
            300,
        ),
        ([lambda c: c.status("busy", duration=0)], ev.CallDisposition.BUSY, 0, 0),
        ([lambda c: c.status("no-answer", duration=0)], ev.CallDisposition.NO_ANSWER, 0, 0),
        ([lambda c: c.status("failed")], ev.CallDisposition.MISSED, 0, 0),
    ],
    ids=["connected", "abandoned", "queue-full", "left-the-queue", "busy", "no-answer", "failed"],
)
def test_every_way_a_call_ends_is_logged_with_its_disposition(  # type: ignore[no-untyped-def]
    twilio, register, steps, disposition, talk, queued
):
    patient, call = _ended(twilio, register, steps)

    (logged,) = logged_calls(patient)
    assert logged.disposition is disposition
    assert logged.queue_seconds == queued
    if disposition is ev.CallDisposition.CONNECTED:  # the timeline's talk: call less hold
        assert logged.duration_seconds - logged.hold_seconds == talk
    assert LiveCall.objects.get(call_sid=call.sid).talk_seconds == talk


def test_a_call_that_left_the_queue_unanswered_hears_why_and_ends(twilio, register):
    register()
    call = twilio.call(ROWAN)
    call.ring()

    root = twiml(call.left_queue("queue-full", 0))

    assert [verb.tag for verb in root] == ["Say", "Hangup"]
    assert "988" in root[0].text.replace(" ", "")


def test_the_status_before_the_queues_result_waits_for_it_then_logs_once(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()

    call.status("completed", duration=200)
    assert logged_calls(patient) == []
    assert LiveCall.objects.get(call_sid=call.sid).state == "live"
    call.left_queue("bridged", 20, status="completed")

    (logged,) = logged_calls(patient)
    assert logged.disposition is ev.CallDisposition.CONNECTED
    assert logged.queue_seconds == 20 and logged.duration_seconds == 180


@pytest.mark.parametrize(
    ("result", "disposition", "length", "talk"),
    [
        ("bridged", ev.CallDisposition.CONNECTED, 180, 180),
        ("hangup", ev.CallDisposition.ABANDONED, 52, 0),
    ],
)
def test_the_queues_result_posted_as_the_call_ends_waits_for_its_length(  # type: ignore[no-untyped-def]
    twilio, register, result, disposition, length, talk
):
    """The <Enqueue> action of a caller who hung up carries CallStatus=completed but no
    CallDuration: the status callback just after it says how long the call was."""
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()

    call.left_queue(result, 20 if result == "bridged" else 50, status="completed")
    assert logged_calls(patient) == []
    call.status("completed", duration=200 if result == "bridged" else 52)

    (logged,) = logged_calls(patient)
    assert logged.disposition is disposition
    assert logged.duration_seconds == length
    assert LiveCall.objects.get(call_sid=call.sid).talk_seconds == talk


def test_retried_and_reordered_callbacks_log_the_call_exactly_once(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)
    for _ in range(2):
        call.ring()
    call.status("completed", duration=200)
    call.left_queue("bridged", 20)
    call.left_queue("bridged", 20)  # Twilio's retry
    call.status("completed", duration=200)
    call.status("in-progress")  # late, overtaken: changes nothing
    call.ring()

    assert len(logged_calls(patient)) == 1
    assert DeskEvent.objects.filter(kind="screen_pop").count() == 1
    assert DeskEvent.objects.filter(kind="call_ended").count() == 1


# --- who is calling ----------------------------------------------------------------------


def test_a_caller_in_crisis_goes_first_through_the_priority_queue(twilio, register, actor):
    patient = register()
    in_crisis(patient, actor)
    twilio.call("+16175550199").ring()  # someone else already waiting

    response = twilio.call(ROWAN).ring()

    (enqueue,) = list(twiml(response))
    assert enqueue.text == "clinic-priority"
    pop = DeskEvent.objects.filter(kind="screen_pop").latest("id")
    assert pop.data["crisis"] is True and pop.data["queue_position"] == 1
    assert "crisis" not in response.content.decode().lower()


def test_with_a_taskrouter_workflow_a_crisis_caller_is_a_task_of_higher_priority(
    twilio, register, actor, settings
):
    settings.TWILIO_VOICE_WORKFLOW_SID = "WW" + "a" * 32
    settings.TWILIO_VOICE_CRISIS_PRIORITY = 100
    patient = register()
    other = register(first_name="Sky", phone="(617) 555-0142")
    in_crisis(patient, actor)

    (crisis,) = list(twiml(twilio.call(ROWAN).ring()))
    (usual,) = list(twiml(twilio.call("+16175550142").ring()))

    assert crisis.get("workflowSid") == usual.get("workflowSid") == "WW" + "a" * 32
    assert crisis.text is None and crisis.get("action").endswith(STATUS)
    assert crisis[0].tag == "Task" and int(crisis[0].get("priority")) == 100
    assert int(usual[0].get("priority")) == 0
    # The task says nothing of the patient: the same attributes for everyone.
    assert json.loads(crisis[0].text) == json.loads(usual[0].text) == {"type": "inbound_call"}
    assert other


def test_the_area_code_never_decides_crisis_routing(twilio):
    # An area code means nothing (989 is Michigan's): only the record's crisis flag does.
    (enqueue,) = list(twiml(twilio.call("+19895550134").ring()))

    assert enqueue.text == "clinic"


def test_a_household_number_pops_every_candidate_and_holds_the_call(twilio, register):
    rowan = register()
    sky = register(first_name="Sky")
    call = twilio.call(ROWAN)

    call.answered()

    pop = DeskEvent.objects.get(kind="screen_pop")
    assert sorted(pop.data["patient_ids"]) == sorted([str(rowan), str(sky)])
    assert logged_calls(rowan) == logged_calls(sky) == []
    held = LiveCall.objects.get(call_sid=call.sid)
    assert held.state == "held" and held.patient_id is None
    ended = DeskEvent.objects.get(kind="call_ended")
    assert ended.data["held"] is True and ended.data["logged"] is False


@pytest.mark.parametrize(
    "caller", ["anonymous", "+266696687", "client:agent1", "sip:front@clinic.example", "+1555"]
)
def test_a_caller_without_a_usable_number_is_queued_and_held(twilio, caller):
    call = twilio.call(caller)

    response = call.ring()
    call.left_queue("bridged", 10)
    call.status("completed", duration=100)

    (enqueue,) = list(twiml(response))
    assert enqueue.tag == "Enqueue"
    held = LiveCall.objects.get(call_sid=call.sid)
    assert (held.phone, held.state, held.candidates) == ("", "held", [])
    assert DeskEvent.objects.get(kind="screen_pop").data["patient_ids"] == []


def test_an_unknown_number_is_an_unknown_caller_held_for_the_agent(twilio, register):
    register()
    call = twilio.call("+16175550177")

    call.abandoned()

    held = LiveCall.objects.get(call_sid=call.sid)
    assert held.phone == "+16175550177" and held.state == "held"
    assert held.disposition == "abandoned"


# --- callbacks -----------------------------------------------------------------------------


def _callbacks(patient):  # type: ignore[no-untyped-def]
    runner.catch_up_all()
    return list(Suggestion.objects.filter(patient_id=patient, kind="callback"))


def test_an_abandoned_call_becomes_a_callback_suggestion(twilio, register):
    patient = register()
    twilio.call(ROWAN).abandoned()

    (suggestion,) = _callbacks(patient)
    assert "abandoned" in suggestion.reason.lower()


def test_a_missed_call_becomes_a_callback_suggestion(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    call.left_queue("queue-full", 0)
    call.status("completed", duration=8)

    (suggestion,) = _callbacks(patient)
    assert "missed" in suggestion.reason.lower()


def test_a_connected_call_raises_no_callback(twilio, register):
    patient = register()
    twilio.call(ROWAN).answered()

    assert _callbacks(patient) == []


# --- the door ------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "bm90LXRoZS1zaWduYXR1cmU=", ""])
@pytest.mark.parametrize("path", [INCOMING, STATUS])
def test_an_unsigned_or_badly_signed_webhook_is_refused_and_records_nothing(
    twilio, register, path, signature
):
    register()
    call = twilio.call(ROWAN)

    response = twilio.post(path, call.form("ringing"), signature=signature)

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not LiveCall.objects.exists() and not DeskEvent.objects.exists()


def test_a_signature_over_another_form_is_refused(twilio):
    call = twilio.call(ROWAN)
    form = call.form("ringing")
    signature = sign(f"http://testserver{INCOMING}", {**form, "From": "+16175550100"})

    assert twilio.post(INCOMING, form, signature=signature).status_code == 403


def test_behind_a_proxy_the_signature_covers_the_public_url(settings, register):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://crm.example.org"
    settings.ALLOWED_HOSTS = ["*"]
    call = Twilio(Client(), host="10.0.0.5").call(ROWAN)
    form = call.form("ringing")

    signed_public = sign(f"https://crm.example.org{INCOMING}", form)
    signed_inside = sign(f"http://10.0.0.5{INCOMING}", form)

    assert call.twilio.post(INCOMING, form, signature=signed_inside).status_code == 403
    response = call.twilio.post(INCOMING, form, signature=signed_public)
    assert response.status_code == 200
    (enqueue,) = list(twiml(response))
    assert enqueue.get("action") == f"https://crm.example.org{STATUS}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("CallSid", ""),
        ("CallSid", "CA" + "z" * 32),
        ("CallSid", "CA" + "0" * 32 + "x" * 100_000),
        ("From", "+1617555" + "0" * 5000),
        ("AccountSid", "AC" + "f" * 32),
        ("CallStatus", "exploded"),
        ("QueueResult", "teleported"),
        ("QueueTime", "-5"),
        ("QueueTime", "9" * 40),
        ("CallDuration", "1e9"),
        ("SequenceNumber", "NaN"),
        ("Direction", "sideways"),
        ("From", "+16175550134\x00"),
    ],
)
def test_a_field_twilio_would_never_send_is_refused_whole(twilio, register, field, value):
    register()
    call = twilio.call(ROWAN)
    form = {**call.form("completed"), "QueueResult": "bridged", "QueueTime": "5", field: value}

    response = twilio.post(STATUS, form)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not LiveCall.objects.exists()


def test_a_webhook_without_a_call_sid_is_refused(twilio):
    form = twilio.call(ROWAN).form("ringing")
    del form["CallSid"]

    response = twilio.post(INCOMING, form)

    assert response.status_code == 400 and "CallSid" in response.json()["errors"]


def test_parameters_twilio_adds_are_ignored(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)
    call.ring()
    call.left_queue("bridged", 5)
    extra = {"StirVerstat": "TN-Validation-Passed-A", "CallToken": "x" * 3000}

    assert call.status("completed", duration=65, **extra).status_code == 200
    assert len(logged_calls(patient)) == 1


def test_a_body_too_big_for_any_webhook_is_refused_and_records_nothing(twilio):
    form = {**twilio.call(ROWAN).form("ringing"), "CallerName": "x" * 3_000_000}

    response = twilio.post(INCOMING, form)

    assert 400 <= response.status_code < 500
    assert not LiveCall.objects.exists() and not DeskEvent.objects.exists()


def test_a_status_for_a_call_whose_incoming_webhook_never_came_logs_it_missed(twilio, register):
    patient = register()
    call = twilio.call(ROWAN)

    call.status("completed", duration=6)
    call.status("completed", duration=6)

    (logged,) = logged_calls(patient)
    assert logged.disposition is ev.CallDisposition.MISSED
    assert DeskEvent.objects.filter(kind="screen_pop").count() == 0
