"""Twilio's callbacks for one call arriving at the same moment on several connections (its
retries, the status and the queue's action racing): the call is logged exactly once."""

from __future__ import annotations

import pytest
from django.test import Client

from crm.models import DeskEvent, LiveCall
from tests.threads import together
from tests.voice.conftest import logged_calls
from tests.voice.twilio_voice import Twilio

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROWAN = "+16175550134"


def test_duplicate_end_callbacks_at_once_log_the_call_once(register):
    patient = register()
    call = Twilio(Client()).call(ROWAN)
    assert call.ring().status_code == 200

    def end(i: int) -> int:
        twilio = Twilio(Client())
        same = twilio.call(ROWAN, sid=call.sid)
        if i % 2:
            return int(same.left_queue("bridged", 20, status="completed").status_code)
        return int(same.status("completed", duration=200).status_code)

    codes = together(8, end)

    assert codes == [200] * 8
    (logged,) = logged_calls(patient)
    assert logged.call_sid == call.sid and logged.queue_seconds == 20
    assert DeskEvent.objects.filter(kind="call_ended").count() == 1
    assert LiveCall.objects.get(call_sid=call.sid).state == "ended"


def test_the_same_incoming_webhook_at_once_pops_once(register):
    register()
    sid = Twilio(Client()).call(ROWAN).sid

    codes = together(6, lambda i: Twilio(Client()).call(ROWAN, sid=sid).ring().status_code)

    assert codes == [200] * 6
    assert DeskEvent.objects.filter(kind="screen_pop").count() == 1
    assert LiveCall.objects.filter(call_sid=sid, enqueued=True).count() == 1


def test_many_calls_ending_at_once_each_log_once(register):
    patients = [register(first_name=f"P{i}", phone=f"(617) 555-01{10 + i}") for i in range(6)]
    calls = [Twilio(Client()).call(f"+161755501{10 + i}") for i in range(6)]
    for call in calls:
        call.ring()

    def end(i: int) -> None:
        same = Twilio(Client()).call(calls[i].caller, sid=calls[i].sid)
        same.left_queue("bridged", 5)
        same.status("completed", duration=65)

    together(6, end)

    assert [len(logged_calls(patient)) for patient in patients] == [1] * 6
