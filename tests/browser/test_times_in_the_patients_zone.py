"""A clerk opens a Chicago patient's page in a real browser: the suggestion's reason, the
upcoming visit, the text reminders and the timeline all give the visit at the same hour,
labelled with Chicago's zone (CST or CDT), the clinic's clock beside it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner

pytestmark = pytest.mark.django_db(transaction=True)

DESK = Actor(name="frontdesk.alder", channel="fixture", role="front_desk")
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
CLINIC = zoneinfo.ZoneInfo("America/New_York")


def _clock(moment: dt.datetime) -> str:
    # Written with strftime here, apart from the code under test.
    return f"{moment.hour % 12 or 12}:{moment:%M %p} {moment:%Z}"


def test_a_chicago_patients_visit_reads_the_same_time_in_every_panel(login):
    now = timezone.now()
    jordan = handlers.patient_register(
        first_name="Jordan",
        last_name="Brookvale",
        date_of_birth=dt.date(1990, 3, 2),
        phone="(312) 555-0177",
        actor=DESK,
        now=now,
        occurred_at=now - dt.timedelta(days=90),
    ).patient_id
    handlers.consent_record(
        patient_id=jordan,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=DESK,
    )
    starts_at = dt.datetime.combine((now + dt.timedelta(days=1)).date(), dt.time(18), dt.UTC)
    handlers.appointment_schedule(
        patient_id=jordan,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=starts_at,
        provider="Dr. Morgan Ashdale",
        location="Main Street Clinic",
        actor=DESK,
    )
    runner.catch_up_all()  # the worker's minute: suggestions and the reminder schedule
    local, clinic = starts_at.astimezone(CHICAGO), starts_at.astimezone(CLINIC)
    when = f"{local:%a %b} {local.day}, {local.year}, {_clock(local)}"
    shown = f"{when} (clinic: {_clock(clinic)})"
    assert when.endswith((" CST", " CDT"))

    page = login("frontdesk", "front_desk")
    page.get_by_label("Find a patient").fill("312 555 0177")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Jordan Brookvale").click()

    upcoming = page.locator("#upcoming").inner_text()
    assert when in upcoming and f"(clinic: {_clock(clinic)})" in upcoming
    reason = page.locator("#panel-suggestions tbody tr", has_text="Confirm").inner_text()
    assert f"Follow-up visit with Dr. Morgan Ashdale {shown} is not confirmed" in reason
    earlier = page.locator("#panel-reminders details summary")
    if earlier.count():  # a reminder already past is folded below what comes next
        earlier.click()
    reminders = page.locator("#panel-reminders").inner_text()
    assert f"24 h before the visit of {shown}" in reminders
    booked = page.locator(".crm-timeline li", has_text="Booked: follow-up").inner_text()
    assert f"Booked: follow-up, {shown}" in booked
