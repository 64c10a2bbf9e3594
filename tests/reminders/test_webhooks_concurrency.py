"""Twilio may deliver the same text twice at once, and a household may text STOP twice:
real concurrent connections on PostgreSQL, one opt-out and one confirmation each time."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.handlers import Actor
from crm.models import Event
from reminders.handlers.inbound import InboundSms, sms_receive
from reminders.models import OutboundMessage
from reminders.projections.numbers import blocked_reason
from tests.reminders.sms_webhook import new_sid
from tests.threads import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HOME = "+16175550134"
AT = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)


def _household() -> list[object]:
    actor = Actor(name="frontdesk.one", channel="admin")
    return [
        handlers.patient_register(
            first_name=name,
            last_name="Testpatient",
            date_of_birth=dt.date(1984, 5, 17),
            phone="(617) 555-0134",
            actor=actor,
            now=AT,
            occurred_at=AT - dt.timedelta(days=400),
        ).patient_id
        for name in ("Avery", "Jordan")
    ]


def _stop(sid: str) -> object:
    return sms_receive(
        sms=InboundSms(provider_message_id=sid, from_number=HOME, body="STOP", received_at=AT),
        now=AT,
    )


def test_the_same_stop_delivered_twice_at_once_is_recorded_once_and_answered_once():
    patients = _household()
    sid = new_sid()

    results = together(4, lambda i: _stop(sid))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Event.objects.filter(event_type="SmsNumberOptedOut").count() == 1
    for patient_id in patients:
        assert Event.objects.filter(stream_id=patient_id, event_type="SmsReceived").count() == 1
        assert Event.objects.filter(stream_id=patient_id, event_type="ConsentRevoked").count() == 1
    assert OutboundMessage.objects.filter(to=HOME, kind="opt_out_confirmation").count() == 1


def test_two_different_stops_at_once_opt_out_once_with_one_confirmation():
    patients = _household()

    results = together(3, lambda i: _stop(new_sid()))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Event.objects.filter(event_type="SmsNumberOptedOut").count() == 1
    assert OutboundMessage.objects.filter(to=HOME, kind="opt_out_confirmation").count() == 1
    for patient_id in patients:
        received = Event.objects.filter(stream_id=patient_id, event_type="SmsReceived")
        assert received.count() == 3  # every text is on record
    assert blocked_reason(HOME) is not None
