"""Texts and status reports Twilio could not have sent are refused whole, with a short 400,
and the clinic's reminders go on; what Twilio adds to its webhooks later is still taken."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from crm.domain import events as ev
from crm.models import CommandRecord, Event
from reminders.backends import locmem
from reminders.models import OutboundMessage
from reminders.projections.numbers import blocked_reason
from reminders.webhooks import forms, views
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
    sign,
)

pytestmark = pytest.mark.django_db

ROWAN = "+16175550134"
SAM = "+16175550135"


@pytest.fixture(autouse=True)
def _twilio(settings, monkeypatch, now):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    monkeypatch.setattr(views, "clock", lambda: now + dt.timedelta(days=1, hours=3))


@pytest.fixture
def rowan(clinic, now):
    """Rowan's reminder for Thursday's visit went out yesterday morning."""
    patient = clinic.patient(phone="(617) 555-0134", first_name="Rowan")
    clinic.book(patient, now + dt.timedelta(days=2))
    dispatch_now(now + dt.timedelta(days=1, hours=2))
    message = OutboundMessage.objects.get(patient_id=patient, kind="reminder")
    return patient, message


class Ledger:
    """What the clinic holds and has sent, to show a refused request changed none of it."""

    def __init__(self) -> None:
        self.before = self.now()

    @staticmethod
    def now() -> tuple[int, int, int, int]:
        return (
            Event.objects.count(),
            CommandRecord.objects.count(),
            OutboundMessage.objects.count(),
            len(locmem.outbox),
        )

    def unchanged(self) -> bool:
        return self.now() == self.before


def refused(response, field):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert len(response.content) < 1000  # a line in Twilio's debugger, not a page
    assert field in response.json()["errors"]
    return True


def status_form(message, **fields):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": message.provider_message_id,
        "SmsSid": message.provider_message_id,
        "MessageStatus": "failed",
        "To": message.to,
        "From": CLINIC_NUMBER,
    }
    form.update(fields)
    return form


def text_form(body, **fields):
    sid = new_sid()
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "SmsSid": sid,
        "From": ROWAN,
        "To": CLINIC_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    form.update(fields)
    return form


# --- a failure code no reminder row could hold ------------------------------------------


def test_a_failure_report_with_a_400_digit_error_code_is_refused_and_reminders_go_on(
    client, clinic, now, rowan
):
    rowan_id, message = rowan
    ledger = Ledger()

    response = post(client, STATUS, status_form(message, ErrorCode="9" * 400))

    assert refused(response, "ErrorCode")
    assert ledger.unchanged()
    [reminder] = [r for r in clinic.reminders(rowan_id) if r.reminder_id == message.reminder_id]
    assert reminder.state == "sent"  # as before the report
    assert OutboundMessage.objects.get(pk=message.pk).status == "sent"

    sam = clinic.patient(phone="(617) 555-0135", first_name="Sam")
    clinic.book(sam, now + dt.timedelta(days=3))
    dispatch_now(now + dt.timedelta(days=2, hours=1))

    assert [sent.to for sent in locmem.outbox if sent.to == SAM]
    assert events_of(sam, ev.SmsSent)


def test_the_same_failure_with_twilios_own_code_is_recorded(client, clinic, rowan):
    rowan_id, message = rowan

    response = post(client, STATUS, status_form(message, ErrorCode="30005"))

    assert response.status_code == 200
    [failed] = events_of(rowan_id, ev.SmsFailed)
    assert failed.error_code == "30005"
    [reminder] = [r for r in clinic.reminders(rowan_id) if r.reminder_id == message.reminder_id]
    assert (reminder.state, reminder.error_code) == ("failed", "30005")


FULLWIDTH_30003 = "\uff13\uff10\uff10\uff10\uff13"  # digits to str.isdigit, not to Twilio


@pytest.mark.parametrize(
    "code", ["123456", FULLWIDTH_30003, "30003.0", "-1", "1e400", "30003\x00", " 30003", "0x1F"]
)
def test_an_error_code_twilio_does_not_write_is_refused(client, rowan, code):
    _, message = rowan
    ledger = Ledger()

    response = post(client, STATUS, status_form(message, ErrorCode=code))

    assert refused(response, "ErrorCode")
    assert ledger.unchanged()


# --- a message id longer than its column, or holding NUL -------------------------------

BAD_SIDS = [
    "SM" + "a" * 300,  # longer than every column that keeps it
    "SM" + "0" * 62,  # fits the outbox's 64, still no Twilio id
    "SM\x00" + "0" * 31,
    "SM0123456789abcdef0123456789abcde\x00",
    "sm0123456789abcdef0123456789abcdef",
    "SM0123456789abcdef0123456789abcdeg",
]


@pytest.mark.parametrize("sid", BAD_SIDS)
def test_a_help_text_with_a_message_id_twilio_never_gives_is_refused_and_answered_by_no_one(
    client, clinic, now, sid
):
    clinic.patient(phone="(617) 555-0134")
    ledger = Ledger()

    response = post(client, INBOUND, text_form("HELP", MessageSid=sid, SmsSid=sid))
    dispatch_now(now + dt.timedelta(hours=1))  # a reply queued by mistake would go now

    assert refused(response, "MessageSid")
    assert ledger.unchanged()


@pytest.mark.parametrize("sid", BAD_SIDS)
def test_a_status_report_about_a_message_id_twilio_never_gives_is_refused(client, rowan, sid):
    _, message = rowan
    ledger = Ledger()

    response = post(client, STATUS, status_form(message, MessageSid=sid, SmsSid=sid))

    assert refused(response, "MessageSid")
    assert ledger.unchanged()


def test_a_stop_with_a_message_id_twilio_never_gives_blocks_nothing(client, clinic):
    clinic.patient(phone="(617) 555-0134")

    response = post(client, INBOUND, text_form("STOP", MessageSid="SM" + "f" * 100))

    assert refused(response, "MessageSid")
    assert blocked_reason(ROWAN) is None


# --- the rest of what we read -----------------------------------------------------------


@pytest.mark.parametrize(
    "change,field",
    [
        ({"SmsSid": new_sid()}, "SmsSid"),  # Twilio sends the same id twice
        ({"AccountSid": "AC" + "1" * 32}, "AccountSid"),  # another Twilio account
        ({"AccountSid": "AC" + "1" * 31}, "AccountSid"),
        ({"From": ROWAN + "\x00"}, "From"),
        ({"From": "+1617555\n0134"}, "From"),
        ({"From": "9" * 400}, "From"),
        ({"Body": "C" * 1601}, "Body"),
    ],
)
def test_a_text_twilio_could_not_have_sent_is_refused_naming_the_field(
    client, clinic, change, field
):
    patient = clinic.patient(phone="(617) 555-0134")
    ledger = Ledger()

    response = post(client, INBOUND, text_form("STOP", **change))

    assert refused(response, field)
    assert ledger.unchanged()
    assert events_of(patient, ev.SmsReceived) == []


def test_a_field_we_read_given_twice_is_refused(client, clinic):
    clinic.patient(phone="(617) 555-0134")
    form = QueryDict(mutable=True)
    for key, value in text_form("STOP").items():
        form[key] = value
    form.setlist("Body", ["C", "STOP"])
    ledger = Ledger()

    response = client.post(
        INBOUND,
        form.urlencode(),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(f"http://testserver{INBOUND}", form),
    )

    assert refused(response, "Body")
    assert ledger.unchanged()


def test_the_longest_text_twilio_delivers_is_kept_whole(client, clinic):
    patient = clinic.patient(phone="(617) 555-0134")
    body = ("Running late, sorry! " * 80)[:1599] + "R"

    response = post(client, INBOUND, text_form(body))

    assert response.status_code == 200
    [received] = events_of(patient, ev.SmsReceived)
    assert received.body == body


def test_a_nul_in_a_text_is_dropped_and_the_text_kept(client, clinic):
    patient = clinic.patient(phone="(617) 555-0134")

    response = post(client, INBOUND, text_form("see you at the front desk\x00 at 9"))

    assert response.status_code == 200
    [received] = events_of(patient, ev.SmsReceived)
    assert received.body == "see you at the front desk at 9"


def test_what_twilio_adds_to_its_webhooks_later_is_taken_without_a_look(client, clinic):
    patient = clinic.patient(phone="(617) 555-0134")
    extra = {
        "MessagingServiceSid": "MG" + "1" * 32,
        "NumSegments": "1",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC.../Media/ME...",
        "MediaContentType0": "image/jpeg",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "FromCity": "BOSTON",
        "AddOns": '{"status": "successful", "results": {}}',
        "To": "a short code or whatever Twilio calls us",
        "ParameterTwilioAddsNextYear": "\x00 anything \U0001f600" * 50,
    }

    response = post(client, INBOUND, text_form("C", **extra))

    assert response.status_code == 200
    assert [e.body for e in events_of(patient, ev.SmsReceived)] == ["C"]


@pytest.mark.parametrize(
    "status", [s for s in forms.TWILIO_STATUSES if s not in {"queued", "sent", "delivered"}]
)
def test_every_status_twilio_documents_is_answered_200(client, rowan, status):
    rowan_id, message = rowan
    response = post(client, STATUS, status_form(message, MessageStatus=status))

    assert response.status_code == 200
    recorded = [type(e) for e in events_of(rowan_id, ev.DomainEvent)]
    assert (ev.SmsFailed in recorded) == (status in {"failed", "undelivered"})


@pytest.mark.parametrize("status", ["Delivered", " delivered", "delivered\x00", "x" * 5000])
def test_a_status_twilio_does_not_write_is_refused(client, rowan, status):
    _, message = rowan
    ledger = Ledger()

    response = post(client, STATUS, status_form(message, MessageStatus=status))

    assert refused(response, "MessageStatus")
    assert ledger.unchanged()


def test_a_body_beyond_the_upload_limit_is_refused_before_anything_is_read(
    client, clinic, settings
):
    clinic.patient(phone="(617) 555-0134")
    form = text_form("C" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    ledger = Ledger()

    response = client.post(
        INBOUND,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(f"http://testserver{INBOUND}", form),
    )

    assert response.status_code == 400
    assert len(response.content) < 1000
    assert ledger.unchanged()
