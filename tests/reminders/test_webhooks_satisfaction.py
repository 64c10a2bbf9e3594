"""After a visit the clinic may ask "how was it?"; a reply 1-5 is recorded as the score."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from reminders.webhooks import views
from tests.reminders.sms_webhook import AUTH_TOKEN, Phone, dispatch_now, events_of

pytestmark = pytest.mark.django_db

HOME = "+16175550134"


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.REMINDERS_SATISFACTION_ENABLED = True
    settings.REMINDERS_SATISFACTION_DELAY_HOURS = 2
    settings.SATISFACTION_REPLY_WINDOW_HOURS = 72


@pytest.fixture
def visited(clinic, actor, now):
    """A patient who agreed to surveys, seen this morning; the survey text went out."""
    patient = clinic.patient(phone="(617) 555-0134")
    clinic.consent(patient, purpose=ev.ConsentPurpose.SURVEYS)
    visit = clinic.book(patient, now + dt.timedelta(hours=1))
    handlers.appointment_complete(
        patient_id=patient,
        appointment_id=visit,
        actor=actor,
        now=now + dt.timedelta(hours=2),
        occurred_at=now + dt.timedelta(hours=2),
    )
    dispatch_now(now + dt.timedelta(hours=4, minutes=1))
    return patient, visit


def text_at(client, monkeypatch, body, at):
    monkeypatch.setattr(views, "clock", lambda: at)
    Phone(client, HOME).text(body)


def test_a_score_after_the_survey_text_is_recorded_for_that_visit(
    client, monkeypatch, visited, now
):
    patient, visit = visited
    assert any("1 (poor) to 5" in body for body in Phone(client, HOME).received())

    text_at(client, monkeypatch, " 4 ", now + dt.timedelta(hours=6))

    [score] = events_of(patient, ev.SatisfactionRecorded)
    assert (score.score, score.channel, score.appointment_id) == (4, ev.Channel.SMS, visit)
    assert events_of(patient, ev.SmsReceived)[-1].intent is ev.SmsIntent.SATISFACTION


def test_a_score_after_the_reply_window_is_just_a_text_for_an_agent(
    client, monkeypatch, visited, now
):
    patient, _ = visited

    text_at(client, monkeypatch, "5", now + dt.timedelta(hours=4, minutes=1, days=3, seconds=1))

    assert events_of(patient, ev.SatisfactionRecorded) == []
    assert events_of(patient, ev.SmsReceived)[-1].intent is ev.SmsIntent.FREE_TEXT


def test_a_number_without_a_survey_text_is_never_taken_as_a_score(client, monkeypatch, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")

    text_at(client, monkeypatch, "3", now)

    assert events_of(patient, ev.SatisfactionRecorded) == []
    assert events_of(patient, ev.SmsReceived)[0].intent is ev.SmsIntent.FREE_TEXT


def test_the_score_goes_to_the_patient_the_survey_was_for_not_the_whole_household(
    client, monkeypatch, clinic, visited, now
):
    patient, _ = visited
    sibling = clinic.patient(first_name="Jordan", phone="(617) 555-0134")

    text_at(client, monkeypatch, "2", now + dt.timedelta(hours=5))

    assert [s.score for s in events_of(patient, ev.SatisfactionRecorded)] == [2]
    assert events_of(sibling, ev.SatisfactionRecorded) == []
    assert events_of(sibling, ev.SmsReceived) == []
