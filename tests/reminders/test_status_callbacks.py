"""Twilio reports what became of a reminder: queued, sent, delivered, undelivered, failed."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.domain import events as ev
from crm.models import Event
from reminders.models import OutboundMessage
from reminders.projections.numbers import blocked_reason
from reminders.webhooks import views
from tests.reminders.sms_webhook import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    STATUS,
    dispatch_now,
    events_of,
    new_sid,
    post,
)

pytestmark = pytest.mark.django_db

HOME = "+16175550134"


@pytest.fixture(autouse=True)
def _twilio(settings, monkeypatch, now):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    monkeypatch.setattr(views, "clock", lambda: now + dt.timedelta(days=1, hours=3))


@pytest.fixture
def sent_reminder(clinic, now):
    """A reminder the dispatcher handed over to the patient's phone."""
    patient = clinic.patient(phone="(617) 555-0134")
    clinic.book(patient, now + dt.timedelta(days=2))
    dispatch_now(now + dt.timedelta(days=1, hours=2))
    message = OutboundMessage.objects.get(patient_id=patient, kind="reminder")
    assert message.provider_message_id
    return patient, message


def report(client, message, status, *, error_code="", sid=None):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid or message.provider_message_id,
        "MessageStatus": status,
        "To": message.to,
        "From": "+16175550100",
    }
    if error_code:
        form["ErrorCode"] = error_code
    response = post(client, STATUS, form)
    assert response.status_code == 200, response.content
    return response


def delivery_events(patient):
    kinds = (ev.SmsStatusReported, ev.SmsDelivered, ev.SmsFailed)
    return [e for e in events_of(patient, ev.DomainEvent) if isinstance(e, kinds)]


def test_each_status_lands_on_the_message_it_is_about(client, sent_reminder):
    patient, message = sent_reminder

    report(client, message, "queued")
    report(client, message, "sent")
    report(client, message, "delivered")

    recorded = delivery_events(patient)
    assert [type(e) for e in recorded] == [
        ev.SmsStatusReported,
        ev.SmsStatusReported,
        ev.SmsDelivered,
    ]
    assert [e.status for e in recorded[:2]] == [ev.SmsStatus.QUEUED, ev.SmsStatus.SENT]
    assert {e.message_id for e in recorded} == {message.message_id}
    assert recorded[2].provider_message_id == message.provider_message_id


def test_the_same_callback_twice_changes_nothing(client, sent_reminder):
    patient, message = sent_reminder
    report(client, message, "delivered")
    events_before = Event.objects.count()

    report(client, message, "delivered")

    assert Event.objects.count() == events_before
    assert len(events_of(patient, ev.SmsDelivered)) == 1


def test_a_status_never_moves_backwards(client, sent_reminder):
    patient, message = sent_reminder
    report(client, message, "delivered")

    report(client, message, "sent")  # arrives late
    report(client, message, "queued")
    report(client, message, "failed", error_code="30008")

    assert [type(e) for e in delivery_events(patient)] == [ev.SmsDelivered]


def test_an_undelivered_text_is_a_permanent_failure_with_a_readable_reason(client, sent_reminder):
    patient, message = sent_reminder
    report(client, message, "sent")

    report(client, message, "undelivered", error_code="30003")

    [failed] = events_of(patient, ev.SmsFailed)
    assert failed.permanent is True
    assert failed.error_code == "30003"
    assert "unreachable" in failed.error_message
    assert failed.message_id == message.message_id
    assert failed.reminder_id == message.reminder_id


def test_a_failure_without_an_error_code_still_says_what_happened(client, sent_reminder):
    patient, message = sent_reminder

    report(client, message, "failed")

    [failed] = events_of(patient, ev.SmsFailed)
    assert failed.error_code == "failed"
    assert failed.error_message == "The carrier reported the text failed."


def test_error_21610_opts_the_number_out_for_every_patient_who_has_it(
    client, clinic, sent_reminder
):
    patient, message = sent_reminder
    sibling = clinic.patient(first_name="Jordan", phone="617 555 0134")

    report(client, message, "undelivered", error_code="21610")

    for someone in (patient, sibling):
        [revoked] = events_of(someone, ev.ConsentRevoked)
        assert (revoked.source, revoked.purpose, revoked.phone) == (
            ev.ConsentSource.CARRIER,
            None,
            HOME,
        )
    assert "carrier" in (blocked_reason(HOME) or "")


def test_a_callback_for_a_message_we_do_not_know_is_acknowledged_and_records_nothing(
    client, sent_reminder
):
    _, message = sent_reminder
    events_before = Event.objects.count()

    report(client, message, "delivered", sid=new_sid())

    assert Event.objects.count() == events_before


def test_progress_states_we_do_not_track_are_acknowledged(client, sent_reminder):
    patient, message = sent_reminder

    report(client, message, "sending")
    report(client, message, "accepted")

    assert delivery_events(patient) == []


@pytest.mark.parametrize(
    "change,field",
    [
        ({"MessageSid": ""}, "MessageSid"),
        ({"MessageStatus": ""}, "MessageStatus"),
        ({"MessageStatus": "teleported"}, "MessageStatus"),
        ({"ErrorCode": "oops"}, "ErrorCode"),
    ],
)
def test_a_malformed_callback_gets_a_400_and_records_nothing(client, sent_reminder, change, field):
    _, message = sent_reminder
    form = {
        "MessageSid": message.provider_message_id,
        "MessageStatus": "delivered",
        "To": HOME,
    }
    form.update(change)
    events_before = Event.objects.count()

    response = post(client, STATUS, form)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Event.objects.count() == events_before


def test_the_reminder_shows_it_was_delivered(client, clinic, sent_reminder):
    patient, message = sent_reminder

    report(client, message, "delivered")

    [reminder] = [r for r in clinic.reminders(patient) if r.reminder_id == message.reminder_id]
    assert reminder.state == "delivered"


def test_a_report_is_recorded_by_the_status_callbacks_not_by_the_inbound_texts(
    client, sent_reminder
):
    patient, message = sent_reminder

    report(client, message, "undelivered", error_code="30005")

    row = Event.objects.filter(stream_id=patient, event_type="SmsFailed").get()
    assert (row.metadata["actor"], row.metadata["channel"]) == ("system:sms-status", "sms")
