"""The API's `Reminder` carries the patient's answer to the text (C, R, STOP, anything
else) and when it came, from the SmsReceived events that answer it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reminders.dispatch import dispatch_due
from reminders.handlers.inbound import InboundSms, sms_receive
from tests.api.conftest import _answers_follow_the_schema  # noqa: F401  (autouse)
from tests.reminders.conftest import local
from tests.reminders.sms_webhook import new_sid
from tests.roles import role_group

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 10, 30)
SENT_AT = VISIT - dt.timedelta(hours=72)


@pytest.fixture
def agent() -> APIClient:
    cache.clear()
    user = User.objects.create_user(username="agent.avery", password="not-a-real-password-42")
    user.groups.add(role_group("agent"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_reminder_shows_the_patients_reply_and_when(clinic, agent):
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.reminders()
    dispatch_due(now=SENT_AT)
    answered = SENT_AT + dt.timedelta(minutes=7)
    sms = InboundSms(
        provider_message_id=new_sid(), from_number="+16175550134", body="C", received_at=answered
    )
    sms_receive(sms=sms, now=answered)
    clinic.reminders()

    response = agent.get(f"/api/v1/patients/{patient}/reminders/")

    assert response.status_code == 200
    rows = {row["offset_hours"]: row for row in response.json()["results"]}
    assert rows[72]["state"] == "sent"
    assert rows[72]["reply"] == {
        "intent": "confirm",
        "text": "C",
        "received_at": "2026-11-07T15:37:00Z",
    }
    assert rows[24]["reply"] is None
