"""An SMS webhook sent in chunks: Twilio always sends a Content-Length, but a proxy in
between may re-send the body chunked. Read whole when the server de-chunked it (gunicorn),
refused with 411 when nothing says where it ends: a STOP is never read as an empty form."""

from __future__ import annotations

import io
from urllib.parse import urlencode

import pytest

from crm.domain import events as ev
from crm.models import Event
from reminders.webhooks import views
from tests.reminders.sms_webhook import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLINIC_NUMBER,
    INBOUND,
    events_of,
    new_sid,
    sign,
)

pytestmark = pytest.mark.django_db

HOME = "+16175550134"


@pytest.fixture(autouse=True)
def _twilio(settings, monkeypatch, now):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.CLINIC_PHONE = CLINIC_NUMBER
    monkeypatch.setattr(views, "clock", lambda: now)


def stop_sent_in_chunks(client, *, terminated: bool):
    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": new_sid(),
        "From": HOME,
        "To": CLINIC_NUMBER,
        "Body": "STOP",
        "NumMedia": "0",
    }
    environ = {
        # With no data the test client sets neither CONTENT_LENGTH nor CONTENT_TYPE.
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_X_TWILIO_SIGNATURE": sign(f"http://testserver{INBOUND}", form),
        "wsgi.input": io.BytesIO(urlencode(form).encode()),
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    return client.generic("POST", INBOUND, b"", **environ)


def test_a_chunked_stop_nothing_can_read_to_its_end_is_a_411_and_records_nothing(client, clinic):
    clinic.patient()
    before = Event.objects.count()

    response = stop_sent_in_chunks(client, terminated=False)

    assert response.status_code == 411
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["Content-Length"]
    assert Event.objects.count() == before


def test_a_chunked_stop_the_server_de_chunked_opts_the_patient_out(client, clinic):
    patient = clinic.patient()

    response = stop_sent_in_chunks(client, terminated=True)

    assert response.status_code == 200, response.content
    assert [r.intent for r in events_of(patient, ev.SmsReceived)] == [ev.SmsIntent.OPT_OUT]
