"""A new clerk's admin: only what the front desk works with (patients, the work queue,
reminders), tables named as people say them, languages by name, no link to a site that is
not there; a search that finds nobody offers registration with the number typed, one that
is no number says so; a note is never refused as stale."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from crm import handlers
from crm.handlers import Actor
from crm.models import Event
from tests.admin.pages import action_url, form_fields, patient_url, text_of

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
PATIENTS = reverse("admin:crm_patientprofile_changelist")
REGISTER = reverse("admin:crm_patientprofile_add")
AGENT = Actor(name="agent.cedar", channel="api", role="agent")
# What only supervisors (figures, audit, pipeline) or superusers with a role (operations) open.
INTERNAL_TABLES = [
    "crm_commandrecord",
    "crm_projectioncheckpoint",
    "crm_dailycallstats",
    "crm_dailyappointmentstats",
    "crm_dailyreminderstats",
    "crm_dailysatisfactionstats",
    "crm_event",
    "crm_parkedstream",
    "crm_accesslogentry",
]


def tables_listed(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The tables the home page lists, by name, with where each leads."""
    html = response.content.decode()
    return {
        name.strip(): url
        for url, name in re.findall(
            r'<th scope="row"[^>]*>\s*<a href="([^"]+)"[^>]*>([^<]+)</a>', html
        )
    }


def test_the_front_desk_is_offered_only_patients_the_work_queue_reminders_calls_and_ehr_matches(
    desk,
):
    listed = tables_listed(desk.get(INDEX))

    assert listed == {
        "Patients": PATIENTS,
        "Work queue": reverse("admin:engagement_suggestion_changelist"),
        "Reminders": reverse("admin:reminders_reminder_changelist"),
        "Phone calls": reverse("admin:crm_livecall_changelist"),
        # The EHR import's ambiguous matches, which the front desk decides (docs/fhir.md).
        "EHR records to match": reverse("admin:crm_ehrmatchreview_changelist"),
    }
    for url in listed.values():
        assert desk.get(url).status_code == 200


@pytest.mark.parametrize("table", INTERNAL_TABLES)
def test_internal_tables_are_for_supervisors_or_superusers_with_a_role(staff, desk, table):
    url = reverse(f"admin:{table}_changelist")
    supervisor = staff("supervisor", "supervisor")
    operator = staff("it.supervisor", "supervisor", superuser=True)

    assert desk.get(url).status_code == 403
    assert 200 in {supervisor.get(url).status_code, operator.get(url).status_code}


def test_no_view_site_link_leads_nowhere_and_tables_read_well(desk, staff):
    supervisor = staff("supervisor", "supervisor")

    page = desk.get(INDEX).content.decode()
    names = tables_listed(supervisor.get(INDEX))

    assert "View site" not in page
    assert "Access log entries" in names and "Access log entrys" not in names
    assert {"Sign-ins", "Sign-in failures", "Sign-in lockout counters"} <= set(names)
    assert not {"Access logs", "Access attempts", "Access failures", "Patient profiles"} & set(
        names
    )


def test_a_patients_language_is_shown_by_name(desk, patient):
    rosa = patient(first_name="Rosa")
    handlers.demographics_change(
        patient_id=rosa,
        first_name="Rosa",
        last_name="Quillbrook",
        date_of_birth=dt.date(1984, 5, 17),
        language="es",
        actor=AGENT,
    )

    page = text_of(desk.get(patient_url(rosa)))
    form = text_of(desk.get(action_url(rosa, "note")))

    assert "speaks Spanish" in page and "speaks es" not in page
    assert "born May 17, 1984, speaks Spanish" in page  # the timeline's entry
    assert "language es" not in page
    assert "speaks Spanish" in form


# --- finding, or registering --------------------------------------------------------------


def test_a_number_nobody_has_offers_registration_with_it_filled_in(desk, patient):
    patient()

    listed = desk.get(PATIENTS, {"q": "(415) 555-0199"}).content.decode()
    link = re.search(r'<a class="button" href="([^"]+)">Register a new patient</a>', listed)
    assert link is not None
    register = desk.get(link.group(1).replace("&amp;", "&"))

    assert "No patient matches" in text_of_html(listed)
    assert form_fields(register.content.decode(), form_id="register-form")["phone"] == (
        "(415) 555-0199"
    )


def test_a_name_nobody_has_offers_registration_too(desk, patient):
    patient()

    listed = desk.get(PATIENTS, {"q": "Larkdale"})

    assert "Register a new patient" in text_of(listed)
    assert f'href="{REGISTER}"' in listed.content.decode()


def test_a_search_that_is_no_valid_number_says_so_in_the_apis_words(desk, patient):
    patient()

    listed = text_of(desk.get(PATIENTS, {"q": "617-555-01345"}))
    short = text_of(desk.get(PATIENTS, {"q": "13"}))

    assert "'617-555-01345' is not a valid phone number; include the area code" in listed
    assert "Register a new patient" not in listed
    assert "Rowan Quillbrook" not in listed
    assert "too short to find a phone number" in short


def test_the_last_digits_and_a_number_without_its_area_code_still_find_the_patient(desk, patient):
    patient()

    for typed in ("0134", "555-0134"):
        page = text_of(desk.get(PATIENTS, {"q": typed}))
        assert "Rowan Quillbrook" in page and "Nothing searched" not in page


# --- notes ----------------------------------------------------------------------------------


def test_a_note_is_added_whatever_changed_since_the_form_was_drawn(desk, patient):
    rowan = patient()
    fields = form_fields(desk.get(action_url(rowan, "note")).content.decode())  # at version 1
    handlers.contact_details_change(
        patient_id=rowan, phone="(617) 555-0177", email="new@example.org", actor=AGENT
    )
    fields["text"] = "Asked for a call after 5pm."

    page = text_of(desk.post(action_url(rowan, "note"), fields, follow=True))

    assert "Someone else changed this patient's record" not in page
    assert "Note added." in page
    assert (
        list(Event.objects.filter(stream_id=rowan).values_list("event_type", flat=True))[-1]
        == "NoteAdded"
    )


def test_a_note_needs_no_version_of_the_page_at_all(desk, patient):
    rowan = patient()
    fields = form_fields(desk.get(action_url(rowan, "note")).content.decode())
    del fields["expected_version"]
    fields["text"] = "Prefers texts."

    page = text_of(desk.post(action_url(rowan, "note"), fields, follow=True))

    assert "Note added." in page


def test_an_edit_that_depends_on_the_record_keeps_its_check(desk, patient):
    rowan = patient()
    fields = form_fields(desk.get(action_url(rowan, "demographics")).content.decode())
    handlers.note_add(patient_id=rowan, text="Called about a bill.", actor=AGENT)
    fields["last_name"] = "Quilbrook"

    page = text_of(desk.post(action_url(rowan, "demographics"), fields))

    assert "Someone else changed this patient's record" in page


def text_of_html(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
