"""A text from a number one of whose patients has a record this release cannot read (an
event a newer release wrote): everyone else on the number still gets it, and the webhook
asks for the retry that records the rest, instead of an HTML 500 that records nobody's."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.domain import events as ev
from reminders.models import OutboundMessage
from reminders.projections.numbers import blocked_reason
from reminders.webhooks import views
from tests.crm.parking import insert_raw, release_that_knows_letters
from tests.reminders.sms_webhook import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLINIC_NUMBER,
    INBOUND,
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
    settings.CLINIC_PHONE = "+16175550100"
    monkeypatch.setattr(views, "clock", lambda: now)


@pytest.fixture
def household(clinic):
    """Two patients sharing a phone; the first one's record ends in an unreadable row."""
    unreadable = clinic.patient(first_name="Avery", phone="(617) 555-0134")
    readable = clinic.patient(first_name="Jordan", phone="617-555-0134")
    insert_raw(unreadable)
    return unreadable, readable


def text(client, body: str, *, sid: str | None = None):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid or new_sid(),
        "From": HOME,
        "To": CLINIC_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    return post(client, INBOUND, form)


def test_a_stop_reaches_the_rest_of_the_household_and_the_number_is_silenced(client, household):
    _, readable = household

    response = text(client, "STOP")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/record-unreadable")
    assert [r.intent for r in events_of(readable, ev.SmsReceived)] == [ev.SmsIntent.OPT_OUT]
    assert len(events_of(readable, ev.ConsentRevoked)) == 1
    assert "texted STOP" in (blocked_reason(HOME) or "")


def test_a_free_text_is_recorded_for_the_readable_patient_and_the_retry_adds_the_rest(
    client, household
):
    unreadable, readable = household
    sid = new_sid()

    assert text(client, "Can someone call me back?", sid=sid).status_code == 503
    assert [r.body for r in events_of(readable, ev.SmsReceived)] == ["Can someone call me back?"]

    with release_that_knows_letters():
        retried = text(client, "Can someone call me back?", sid=sid)

        assert retried.status_code == 200, retried.content
        assert len(events_of(readable, ev.SmsReceived)) == 1  # not twice
        assert [r.body for r in events_of(unreadable, ev.SmsReceived)] == [
            "Can someone call me back?"
        ]


# --- status callbacks --------------------------------------------------------------------


@pytest.fixture
def sent_then_unreadable(clinic, now):
    """A reminder handed over to a household's phone; then the patient's record gets an
    event this release cannot read."""
    patient = clinic.patient(first_name="Avery", phone="(617) 555-0134")
    sibling = clinic.patient(first_name="Jordan", phone="617-555-0134")
    clinic.book(patient, now + dt.timedelta(days=2))
    dispatch_now(now + dt.timedelta(days=1, hours=2))
    message = OutboundMessage.objects.get(patient_id=patient, kind="reminder")
    insert_raw(patient)
    return patient, sibling, message


def status(client, message, value: str, error_code: str = ""):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": message.provider_message_id,
        "MessageStatus": value,
        "To": message.to,
        "From": CLINIC_NUMBER,
    }
    if error_code:
        form["ErrorCode"] = error_code
    return post(client, STATUS, form)


def test_a_status_for_an_unreadable_record_is_a_503_problem_and_is_taken_on_retry(
    client, sent_then_unreadable
):
    patient, _, message = sent_then_unreadable

    response = status(client, message, "delivered")

    assert response.status_code == 503
    assert response.json()["type"].endswith("/record-unreadable")
    with release_that_knows_letters():
        assert status(client, message, "delivered").status_code == 200
        assert len(events_of(patient, ev.SmsDelivered)) == 1


def test_a_carrier_opt_out_reaches_the_household_past_an_unreadable_record(
    client, sent_then_unreadable
):
    _, sibling, message = sent_then_unreadable

    assert status(client, message, "undelivered", error_code="21610").status_code == 503

    [revoked] = events_of(sibling, ev.ConsentRevoked)
    assert revoked.channel is ev.Channel.SMS
