"""The Twilio backend against a local server that answers like Twilio's Messages API."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from fixtures.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from reminders.backends import Sms, SmsError, get_backend

TO = "+16175550134"


@pytest.fixture
def twilio(settings):
    with FakeTwilio() as fake:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_API_BASE_URL = fake.url
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
        settings.TWILIO_FROM_NUMBER = ""
        settings.TWILIO_STATUS_CALLBACK_URL = "https://crm.example.org/webhooks/sms/status/"
        yield fake


def sms(body="Hi Rowan, reminder: ..."):
    return Sms(uuid.uuid4(), TO, body)


def test_it_hands_texts_over_on_one_kept_alive_connection(twilio):
    backend = get_backend()

    sids = [backend.send(sms(f"text {n}")) for n in range(3)]
    backend.close()

    assert sids == twilio.sids()
    assert all(sid.startswith("SM") and len(sid) == 34 for sid in sids)
    (first, *_) = twilio.messages
    assert (first.to, first.body, first.sender, first.status_callback) == (
        TO,
        "text 0",
        "MG" + "1" * 32,
        "https://crm.example.org/webhooks/sms/status/",
    )


def test_a_from_number_is_used_without_a_messaging_service(twilio, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = "+16175550100"

    get_backend().send(sms())

    assert twilio.messages[0].sender == "+16175550100"


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),
        (400, 21610, True),
        (400, 21614, True),
        (429, 20429, False),
        (503, 20500, False),
    ],
)
def test_refusals_are_told_apart_from_hiccups(twilio, status, code, permanent):
    twilio.fail(TO, status, code)

    with pytest.raises(SmsError) as refused:
        get_backend().send(sms())

    assert (refused.value.code, refused.value.permanent) == (str(code), permanent)
    assert twilio.count() == 0


def test_a_refusal_too_odd_to_keep_is_kept_within_what_the_outbox_holds(twilio):
    twilio.fail(TO, 400, 10**399, "No.\x00 \ud800" + "x" * 5000)

    with pytest.raises(SmsError) as refused:
        get_backend().send(sms())

    assert refused.value.code == "400"  # the HTTP status stands in for a code of 400 digits
    assert refused.value.message.startswith("No. ?")
    assert len(refused.value.message) <= 500
    assert refused.value.permanent


def test_wrong_credentials_are_not_blamed_on_the_text(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    with pytest.raises(SmsError) as refused:
        get_backend().send(sms())

    assert (refused.value.code, refused.value.permanent) == ("20003", False)


def test_it_finds_a_text_it_handed_over_by_number_body_and_time(twilio):
    backend = get_backend()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    sid = backend.send(sms("the one"))
    backend.send(Sms(uuid.uuid4(), "+16175550135", "the one"))

    assert backend.find_sent(to=TO, body="the one", since=before) == sid
    assert backend.find_sent(to=TO, body="another", since=before) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert backend.find_sent(to=TO, body="the one", since=later) is None


def test_finding_pages_back_through_a_busy_number(twilio, monkeypatch):
    from reminders.backends import twilio as module

    monkeypatch.setattr(module, "LIST_PAGE_SIZE", 2)
    backend = get_backend()
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    first = backend.send(sms("oldest"))
    for n in range(4):
        backend.send(sms(f"newer {n}"))

    assert backend.find_sent(to=TO, body="oldest", since=before) == first


def test_an_unreachable_provider_is_a_hiccup(settings):
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens on discard
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32

    with pytest.raises(SmsError) as refused:
        get_backend("twilio").send(sms())

    assert refused.value.permanent is False
