"""The front desk's day in a real browser: a caller gives their number in another format,
the desk finds them, books a visit, and sees it on the page, in the timeline and in the
text reminders it sets off."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import Counter

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.domain.state import consent_key
from crm.handlers import Actor
from crm.models import PatientProfile
from crm.projections import runner
from fixtures import demo

pytestmark = pytest.mark.django_db(transaction=True)

DESK = Actor(name="frontdesk.alder", channel="fixture", role="front_desk")


def register(first: str, last: str, phone: str) -> None:
    now = timezone.now()
    handlers.patient_register(
        first_name=first,
        last_name=last,
        date_of_birth=dt.date(1984, 5, 17),
        phone=phone,
        actor=DESK,
        now=now,
        occurred_at=now - dt.timedelta(days=90),
    )


def test_the_desk_finds_a_caller_by_phone_and_books_a_visit(login):
    register("Rowan", "Quillbrook", "(617) 555-0134")
    register("Avery", "Larkdale", "(212) 555-0188")
    page = login("frontdesk", "front_desk")

    page.get_by_label("Find a patient").fill("+1 617 555 0134")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#result_list")
    assert "Avery" not in results.inner_text()
    results.get_by_role("link", name="Rowan Quillbrook").click()

    page.locator("#actions").get_by_role("link", name="Book an appointment").click()
    day = (
        timezone.now().astimezone(zoneinfo.ZoneInfo("America/New_York")) + dt.timedelta(days=5)
    ).date()
    page.get_by_label("Visit").select_option("annual_wellness")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Time:", exact=True).fill("10:15")
    page.get_by_label("Provider").fill("Dr. Morgan Ashdale")
    page.get_by_label("Location").fill("Main Street Clinic, 2nd floor")
    page.get_by_role("button", name="Book appointment").click()

    page.wait_for_url(re.compile(r".*/change/$"))
    assert "Booked: annual wellness visit" in page.locator(".messagelist").inner_text()
    upcoming = page.locator("#upcoming").inner_text()
    assert "Annual wellness visit" in upcoming and "10:15 AM" in upcoming
    first_entry = page.locator(".crm-timeline li").first.inner_text()
    assert "Booked: annual wellness visit" in first_entry
    assert "recorded by frontdesk (front desk, in the admin)" in first_entry


def test_a_refused_booking_stays_on_the_form_with_the_reason(login):
    register("Rowan", "Quillbrook", "(617) 555-0134")
    page = login("frontdesk", "front_desk")
    page.get_by_label("Find a patient").fill("Quillbrook")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Rowan Quillbrook").click()
    page.locator("#actions").get_by_role("link", name="Book an appointment").click()

    page.get_by_label("Date").fill("2020-01-06")
    page.get_by_label("Time:", exact=True).fill("09:00")
    page.get_by_label("Provider").fill("Dr. Morgan Ashdale")
    page.get_by_label("Location").fill("Main Street Clinic")
    page.get_by_role("button", name="Book appointment").click()

    assert "Cannot book an appointment in the past." in page.locator(".errornote").inner_text()
    assert page.get_by_label("Provider").input_value() == "Dr. Morgan Ashdale"


def test_the_desk_books_a_demo_patient_and_sees_the_visits_text_reminders(login):
    demo.generate(now=timezone.now(), patients=15)
    rowan = _a_demo_patient_who_agreed_to_text_reminders()
    digits = rowan.phone[-10:]
    typed = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"  # stored as +1XXXXXXXXXX
    page = login("frontdesk", "front_desk")

    page.get_by_label("Find a patient").fill(typed)
    page.get_by_role("button", name="Search").click()
    page.locator(f'#result_list a[href*="{rowan.patient_id}"]').click()
    page.locator("#actions").get_by_role("link", name="Book an appointment").click()
    clinic = zoneinfo.ZoneInfo("America/New_York")
    day = (timezone.now().astimezone(clinic) + dt.timedelta(days=6)).date()
    page.get_by_label("Visit").select_option("follow_up")
    page.get_by_label("Date").fill(day.isoformat())
    # 2 pm in the clinic is daytime for a patient anywhere in the US: no quiet hours move it.
    page.get_by_label("Time:", exact=True).fill("14:00")
    page.get_by_label("Provider").fill("Dr. Morgan Ashdale")
    page.get_by_label("Location").fill("Main Street Clinic, 2nd floor")
    page.get_by_role("button", name="Book appointment").click()
    page.wait_for_url(re.compile(r".*/change/$"))
    assert "Booked: follow-up" in page.locator(".messagelist").inner_text()
    assert "Booked: follow-up" in page.locator(".crm-timeline li").first.inner_text()

    # The reminder schedule is a catch-up projection: the worker runs it every minute.
    runner.catch_up_all()
    page.reload()

    starts = dt.datetime.combine(day, dt.time(14), tzinfo=clinic)
    patients_zone = zoneinfo.ZoneInfo(rowan.timezone)
    visit = f"the visit of {_as_read(starts, patients_zone)}"
    rows = [
        row for row in page.locator("#panel-reminders tbody tr").all_inner_texts() if visit in row
    ]
    for hours in (72, 24):
        due = _as_read(starts - dt.timedelta(hours=hours), patients_zone)
        assert any(f"{hours} h before {visit}" in row and due in row for row in rows), rows


def _as_read(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """A moment in the patient's zone, labelled, as every panel writes it (the clinic's
    time follows in parentheses when it differs)."""
    local = moment.astimezone(zone)
    return f"{local:%a %b} {local.day}, {local.year}, {local.hour % 12 or 12}:{local:%M %p %Z}"


def _a_demo_patient_who_agreed_to_text_reminders() -> PatientProfile:
    reminders = consent_key(ev.Channel.SMS, ev.ConsentPurpose.APPOINTMENT_REMINDERS)
    phones = Counter(PatientProfile.objects.values_list("phone", flat=True))
    return next(
        profile
        for profile in PatientProfile.objects.filter(
            phone__isnull=False, deceased=False, crisis_flag=False, merged_into__isnull=True
        ).order_by("last_name")
        if phones[profile.phone] == 1
        and profile.consents.get(reminders, {}).get("granted")
        and not profile.upcoming_appointments
    )
