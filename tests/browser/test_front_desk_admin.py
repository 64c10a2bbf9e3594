"""A new clerk's first morning in a real browser: the admin offers only what the front desk
works with, the work queue is claimed and completed from its pages, a number nobody has
leads to a registration form with it filled in, and a note is saved even when the record
changed while it was being typed."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import Event
from crm.projections import runner
from engagement.models import Suggestion
from engagement.projection import PROJECTION

pytestmark = pytest.mark.django_db(transaction=True)

DESK = Actor(name="frontdesk.alder", channel="fixture", role="front_desk")
AGENT = Actor(name="agent.cedar", channel="api", role="agent")


def register(first: str, phone: str) -> uuid.UUID:
    return handlers.patient_register(
        first_name=first,
        last_name="Quillbrook",
        date_of_birth=dt.date(1984, 5, 17),
        phone=phone,
        language="es",
        actor=DESK,
    ).patient_id


def test_the_clerks_home_page_lists_only_the_tables_of_the_front_desks_work(login):
    page = login("frontdesk", "front_desk")

    tables = page.locator("#content-main table th[scope=row] a").all_inner_texts()

    assert sorted(t.strip() for t in tables) == [
        "EHR records to match",
        "Patients",
        "Phone calls",
        "Reminders",
        "Work queue",
    ]
    assert page.get_by_role("link", name="View site").count() == 0


def test_the_clerk_claims_and_completes_a_suggestion_from_the_work_queue(login):
    morgan = register("Morgan", "(617) 555-0141")
    handlers.call_log(
        patient_id=morgan,
        direction=ev.CallDirection.INBOUND,
        started_at=timezone.now() - dt.timedelta(hours=1),
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=DESK,
    )
    runner.catch_up(PROJECTION)
    page = login("frontdesk", "front_desk")

    page.get_by_role("link", name="Work queue").click()
    page.locator("#changelist-filter").get_by_role("link", name="Call back a missed call").click()
    row = page.locator("#result_list tbody tr").first
    assert "Morgan Quillbrook" in row.inner_text()
    assert "missed" in row.inner_text().lower()
    row.get_by_role("link", name="Call back a missed call").click()

    page.get_by_role("button", name="Claim: I'm on it").click()
    assert "Claimed" in page.locator(".messagelist").inner_text()
    assert "Being handled by frontdesk" in page.locator("#where-it-stands").inner_text()
    page.get_by_label("What was done").fill("Called back; booked a follow-up.")
    page.get_by_role("button", name="Done").click()

    assert "Recorded as done." in page.locator(".messagelist").inner_text()
    assert page.locator("#where-it-stands").inner_text().startswith("Done")
    recorded = list(
        Event.objects.filter(stream_id=morgan)
        .order_by("version")
        .values_list("event_type", flat=True)
    )
    assert recorded[-2:] == ["SuggestionClaimed", "SuggestionCompleted"]
    runner.catch_up(PROJECTION)
    assert Suggestion.objects.get(patient_id=morgan, kind="callback").status == "done"


def test_a_number_nobody_has_leads_to_registration_with_it_filled_in(login):
    register("Rowan", "(617) 555-0134")
    page = login("frontdesk", "front_desk")

    page.get_by_label("Find a patient").fill("415.555.0199")
    page.get_by_role("button", name="Search").click()
    assert "No patient matches" in page.locator("#no-match").inner_text()
    page.get_by_role("link", name="Register a new patient").click()

    assert page.get_by_label("Phone").input_value() == "(415) 555-0199"
    page.get_by_label("First name").fill("Avery")
    page.get_by_label("Last name").fill("Larkdale")
    page.get_by_label("Date of birth").fill("1990-01-02")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(re.compile(r".*/change/$"))
    assert "(415) 555-0199" in page.locator(".crm-patient-header").inner_text()


def test_a_search_that_is_no_valid_number_says_so(login):
    register("Rowan", "(617) 555-0134")
    page = login("frontdesk", "front_desk")

    page.get_by_label("Find a patient").fill("617-555-01345")
    page.get_by_role("button", name="Search").click()

    assert "is not a valid phone number" in page.locator("#search-problem").inner_text()


def test_a_note_typed_while_someone_else_changed_the_record_is_saved(login):
    rowan = register("Rowan", "(617) 555-0134")
    page = login("frontdesk", "front_desk")
    page.goto(f"/admin/crm/patientprofile/{rowan}/change/")
    assert "speaks Spanish" in page.locator(".crm-patient-header").inner_text()
    page.locator("#actions").get_by_role("link", name="Add a note").click()
    page.get_by_label("Text").fill("Prefers a call after 5pm.")

    # Meanwhile an agent changes the same record on the phone.
    handlers.contact_details_change(
        patient_id=rowan, phone="(617) 555-0177", email="rowan@example.org", actor=AGENT
    )
    page.get_by_role("button", name="Add note").click()

    page.wait_for_url(re.compile(r".*/change/$"))
    assert "Note added." in page.locator(".messagelist").inner_text()
    assert "Prefers a call after 5pm." in page.locator(".crm-timeline").inner_text()
