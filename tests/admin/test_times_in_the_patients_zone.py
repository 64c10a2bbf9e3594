"""One time, one wording: a Chicago patient's visit reads the same in the upcoming
visits, the suggested next steps, the text reminders and the timeline of their page: in
Chicago time, labelled, with the clinic's clock beside it."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner
from tests.admin.pages import patient_url, text_of

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
CLINIC = zoneinfo.ZoneInfo("America/New_York")
DESK = Actor(name="frontdesk.birch", channel="fixture", role="front_desk")


def _clock(moment: dt.datetime) -> str:
    # Written with strftime here, apart from the code under test.
    return f"{moment.hour % 12 or 12}:{moment:%M %p} {moment:%Z}"


def in_chicago(moment: dt.datetime) -> str:
    local = moment.astimezone(CHICAGO)
    return f"{local:%a %b} {local.day}, {local.year}, {_clock(local)}"


def at_the_clinic(moment: dt.datetime) -> str:
    return _clock(moment.astimezone(CLINIC))


@pytest.fixture
def jordan(patient, clinic_now) -> tuple[uuid.UUID, dt.datetime]:  # type: ignore[no-untyped-def]
    """A Chicago number who agreed to text reminders, with a follow-up tomorrow at noon
    Chicago time in winter (18:00 UTC), not confirmed yet; the projections caught up."""
    jordan = patient(first_name="Jordan", phone="(312) 555-0177")
    handlers.consent_record(
        patient_id=jordan,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=DESK,
    )
    tomorrow = (clinic_now + dt.timedelta(days=1)).date()
    starts_at = dt.datetime.combine(tomorrow, dt.time(18, 0), tzinfo=dt.UTC)
    handlers.appointment_schedule(
        patient_id=jordan,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=starts_at,
        provider="Dr. Priya Fernhurst",
        location="Main Street Clinic, 2nd floor",
        actor=DESK,
    )
    runner.catch_up_all()
    return jordan, starts_at


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(start) : page.index(end, page.index(start))]


def test_every_panel_gives_the_visit_in_the_patients_zone_with_the_clinics_time(desk, jordan):
    patient_id, starts_at = jordan
    when, clinic = in_chicago(starts_at), at_the_clinic(starts_at)
    assert when.endswith((" CST", " CDT")) and clinic.endswith((" EST", " EDT"))

    page = text_of(desk.get(patient_url(patient_id)))

    upcoming = _section(page, "Upcoming appointments", "Suggested next steps")
    assert f"Follow-up , {when} (clinic: {clinic})" in upcoming
    suggestions = _section(page, "Suggested next steps", "Text reminders")
    assert f"Follow-up visit with Dr. Priya Fernhurst {when} (clinic: {clinic}) is not" in (
        suggestions
    )
    reminders = _section(page, "Text reminders", "Timeline (newest first)")
    assert f"24 h before the visit of {when} (clinic: {clinic})" in reminders
    timeline = page[page.index("Timeline (newest first)") :]
    assert f"Booked: follow-up, {when} (clinic: {clinic})" in timeline


def test_a_reminder_row_gives_its_own_time_in_the_patients_zone_too(desk, jordan):
    patient_id, starts_at = jordan
    due = starts_at - dt.timedelta(hours=72)

    page = text_of(desk.get(patient_url(patient_id)))

    reminders = _section(page, "Text reminders", "Timeline (newest first)")
    assert f"{in_chicago(due)} (clinic: {at_the_clinic(due)}) 72 h before" in reminders


def test_a_patient_in_the_clinics_zone_reads_one_time(desk, patient, book, clinic_now):
    rowan = patient()
    book(rowan, in_days=2)

    page = text_of(desk.get(patient_url(rowan)))

    upcoming = _section(page, "Upcoming appointments", "Timeline (newest first)")
    assert " EST" in upcoming or " EDT" in upcoming
    assert "(clinic:" not in page
