"""The front desk's text reminders: what comes next first on the patient's page, the
history folded below it, and each text's reply (C, R, STOP...) with its time."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner
from reminders.dispatch import dispatch_due
from reminders.handlers.inbound import InboundSms, sms_receive
from tests.admin.pages import patient_url, text_of

pytestmark = pytest.mark.django_db

CLINIC = zoneinfo.ZoneInfo("America/New_York")
DESK = Actor(name="frontdesk.birch", channel="fixture", role="front_desk")


def _read(moment: dt.datetime) -> str:
    # Written with strftime here, apart from the code under test.
    local = moment.astimezone(CLINIC)
    return f"{local:%a %b} {local.day}, {local.year}, {local.hour % 12 or 12}:{local:%M %p %Z}"


@pytest.fixture(autouse=True)
def _texts_in_memory(settings):
    settings.SMS_BACKEND = "locmem"
    settings.REMINDERS_SEND_WINDOW = (dt.time(8), dt.time(21))
    settings.REMINDERS_OFFSETS_HOURS = (72, 24)
    settings.REMINDERS_OFFSETS_BY_KIND = {}


@pytest.fixture
def rowan(patient, book, clinic_now):
    """A patient whose last visit was reminded twice (the first text answered C) and who
    has a visit coming up next week."""
    today = clinic_now.astimezone(CLINIC).date()
    past = dt.datetime.combine(today - dt.timedelta(days=5), dt.time(10, 30), tzinfo=CLINIC)
    coming = dt.datetime.combine(today + dt.timedelta(days=7), dt.time(10, 30), tzinfo=CLINIC)
    booked_at = clinic_now - dt.timedelta(days=30)
    patient_id = patient(timezone_name="America/New_York")
    handlers.consent_record(
        patient_id=patient_id,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=DESK,
        occurred_at=booked_at,
    )
    visit = book(patient_id, starts_at=past, now=booked_at, occurred_at=booked_at)
    book(patient_id, starts_at=coming, now=booked_at, occurred_at=booked_at)
    runner.catch_up(runner.registered()["reminders"])
    dispatch_due(now=past - dt.timedelta(hours=72))
    answered = past - dt.timedelta(hours=72) + dt.timedelta(minutes=9)
    sms_receive(
        sms=InboundSms(
            provider_message_id="SM" + "c0ffee".rjust(32, "0"),
            from_number="+16175550134",
            body="C",
            received_at=answered,
        ),
        now=answered,
    )
    dispatch_due(now=past - dt.timedelta(hours=24))
    done = past + dt.timedelta(minutes=40)
    handlers.appointment_complete(
        patient_id=patient_id, appointment_id=visit, actor=DESK, now=done, occurred_at=done
    )
    runner.catch_up_all()
    return patient_id, past, coming, answered


def test_the_panel_shows_what_comes_next_first_and_folds_the_history_below(desk, rowan):
    patient_id, _, coming, answered = rowan

    response = desk.get(patient_url(patient_id))

    html = response.content.decode()
    panel = html[
        html.index('id="panel-reminders"') : html.index(
            "</section>", html.index('id="panel-reminders"')
        )
    ]
    upcoming, folded = panel.split('<details class="crm-history">')
    first, second = re.findall(r"<tr>(.*?)</tr>", upcoming, re.S)[1:]
    assert "72 h before" in first and "24 h before" in second  # soonest first
    assert f"the visit of {_read(coming)}" in first and "scheduled" in first
    assert "Earlier text reminders (2)" in folded
    later, earlier = re.findall(r"<tr>(.*?)</tr>", folded, re.S)[1:]
    assert "24 h before" in later and "72 h before" in earlier  # newest first
    page = text_of(response)
    assert f'sent; replied "C" (confirm), {_read(answered)}' in page
    assert "cancelled" not in panel  # both texts went before the visit took place


def test_the_reminders_list_shows_each_reply_with_its_time(desk, rowan):
    *_, answered = rowan

    response = desk.get(reverse("admin:reminders_reminder_changelist"))

    assert response.status_code == 200
    page = text_of(response)
    assert f'"C" (confirm), {_read(answered)}' in page
    assert page.count('"C" (confirm)') == 1
