"""A call comes in and ends: the caller is put in line with valid TwiML, the desk gets one pop,
and the call is logged once on the patient's stream with how it ended."""

from __future__ import annotations

import pytest

from crm.domain import events as ev
from crm.models import DeskEvent, LiveCall
from tests.voice.conftest import logged_calls
from tests.voice.twilio_voice import STATUS, twiml

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
    assert (logged.duration_seconds, logged.queue_seconds, logged.hold_seconds) == (270, 30, 30)
    (ended,) = DeskEvent.objects.filter(kind="call_ended")
    assert ended.data["disposition"] == "connected" and ended.data["logged"] is True
    assert ended.data["talk_seconds"] == 240 and ended.data["queue_seconds"] == 30
    assert LiveCall.objects.get(call_sid=call.sid).state == "ended"
