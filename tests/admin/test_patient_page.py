"""The patient page: everything at a glance while the patient is on the phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import extensions, handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import AccessLogEntry
from tests.admin.pages import action_url, form_fields, patient_url, text_of

pytestmark = pytest.mark.django_db

AGENT = Actor(name="agent.cedar", channel="api", role="agent")
THERAPIST = Actor(name="lee.brightmoor", channel="admin", role="clinician")


def test_the_page_shows_the_profile_and_the_visits_still_ahead(desk, patient, book):
    rowan = patient(email="rowan.q@example.org", preferred_name="Ro")
    book(rowan, in_days=6, appointment_type=ev.AppointmentType.ANNUAL_WELLNESS)
    book(rowan, in_days=-1)  # started yesterday, never closed

    page = text_of(desk.get(patient_url(rowan)))

    assert "Ro Quillbrook" in page and "Legal name Rowan Quillbrook" in page
    assert "Born May 17, 1984" in page and "(617) 555-0134" in page
    assert "rowan.q@example.org" in page
    upcoming = page[page.index("Upcoming appointments") : page.index("Visits to close")]
    assert "Annual wellness visit" in upcoming and "Dr. Priya Fernhurst" in upcoming
    assert "Not confirmed" in upcoming
    to_close = page[page.index("Visits to close") : page.index("Timeline")]
    assert "Follow-up" in to_close and "No-show" in to_close


def test_the_timeline_reads_newest_first_with_who_recorded_each_entry(desk, patient, clinic_now):
    rowan = patient()
    handlers.call_log(
        patient_id=rowan,
        direction=ev.CallDirection.INBOUND,
        started_at=clinic_now - dt.timedelta(hours=2),
        duration_seconds=250,
        hold_seconds=10,
        disposition=ev.CallDisposition.CONNECTED,
        reason="Prescription refill question",
        resolved_first_contact=True,
        actor=AGENT,
    )
    handlers.note_add(patient_id=rowan, text="Prefers afternoon appointments.", actor=AGENT)

    page = text_of(desk.get(patient_url(rowan)))
    timeline = page[page.index("Timeline (newest first)") :]

    note = timeline.index("Prefers afternoon appointments.")
    call = timeline.index("Inbound call, connected: Prescription refill question")
    registered = timeline.index("Registered Rowan Quillbrook, born May 17, 1984")
    assert note < call < registered
    assert "talk 4 min 00 s, hold 10 s, resolved on first contact" in timeline
    assert "recorded by agent.cedar (agent, on the agent desktop)" in timeline
    assert "recorded by frontdesk.alder (front desk, demo data)" in timeline


def test_a_restricted_note_shows_its_text_to_clinicians_only(desk, clinician, patient):
    rowan = patient()
    handlers.note_add(
        patient_id=rowan,
        text="Discussed medication side effects.",
        restricted=True,
        actor=THERAPIST,
    )

    for_desk = text_of(desk.get(patient_url(rowan)))
    for_clinician = text_of(clinician.get(patient_url(rowan)))

    assert "Restricted note (clinicians only)" in for_desk
    assert "medication side effects" not in for_desk
    assert "Discussed medication side effects." in for_clinician


def test_an_open_crisis_flag_is_the_first_thing_on_the_page(desk, patient):
    rowan = patient()
    handlers.crisis_contact_record(
        patient_id=rowan,
        risk_level=ev.RiskLevel.IMMINENT,
        handoff=ev.CrisisHandoff.MOBILE_CRISIS_TEAM,
        safety_plan=ev.SafetyPlan.CREATED,
        summary="Caller felt overwhelmed after a job loss.",
        actor=AGENT,
    )

    page = text_of(desk.get(patient_url(rowan)))

    assert page.index("Open crisis flag") < page.index("Upcoming appointments")
    assert "imminent risk, mobile crisis team, safety plan created" in page
    assert "Crisis · imminent risk" in page
    assert "transfer to the crisis line, 988" in page


def test_times_are_shown_in_the_patients_zone_with_the_clinic_time_beside_them(
    desk, patient, book, clinic_now
):
    # A Seattle number: the profile derives America/Los_Angeles from the area code.
    avery = patient(first_name="Avery", phone="(206) 555-0142")
    book(avery, in_days=4)

    page = text_of(desk.get(patient_url(avery)))

    assert "time zone America/Los_Angeles" in page
    assert " PST" in page or " PDT" in page
    assert "(clinic:" in page


def test_the_page_costs_the_same_few_queries_however_long_the_history(
    desk, patient, book, clinic_now, notes_extensions
):
    rowan = patient()
    first = book(rowan, in_days=1)
    handlers.appointment_confirm(patient_id=rowan, appointment_id=first, actor=AGENT)
    handlers.note_add(patient_id=rowan, text="Note 0", actor=AGENT)
    with CaptureQueriesContext(connection) as short:
        assert desk.get(patient_url(rowan)).status_code == 200
    visits = [book(rowan, in_days=day + 2) for day in range(10)]
    for visit in visits[:5]:
        handlers.appointment_confirm(patient_id=rowan, appointment_id=visit, actor=AGENT)
    for n in range(1, 40):
        handlers.note_add(patient_id=rowan, text=f"Note {n}", actor=AGENT)
    handlers.lab_test_order(
        patient_id=rowan, test_name="Lipid panel", due_by=clinic_now.date(), actor=AGENT
    )

    with CaptureQueriesContext(connection) as long:
        response = desk.get(patient_url(rowan))

    page = text_of(response)
    assert "Note 39" in page and "Visit confirmed by phone" in page
    assert "Older entries" in page  # 59 entries: the page shows the latest 50
    assert "Latest notes (test panel)" in page and "Lipid panel" in page
    # Ten of its own, the audit's insert, and a few per panel other apps add (a test
    # panel registered here costs one).
    assert len(short) == len(long) <= 11 + 3 * len(extensions.patient_panels())


def test_other_apps_panels_show_as_tables_with_their_warnings(desk, patient, notes_extensions):
    rowan = patient()
    avery = patient(first_name="Avery", phone="(617) 555-0135")
    handlers.note_add(patient_id=rowan, text="Prefers mornings.", actor=AGENT)
    handlers.note_add(
        patient_id=rowan, text="Safety plan reviewed.", restricted=True, actor=THERAPIST
    )

    html = desk.get(patient_url(rowan)).content.decode()
    panel = html[html.index('id="panel-test-notes"') :]
    panel = panel[: panel.index("</section>")]

    assert "<th>Note</th><th>Restricted</th>" in panel
    assert '<tr class="crm-row--warning"><td>Safety plan reviewed.</td><td>yes</td></tr>' in panel
    assert "<tr><td>Prefers mornings.</td><td>no</td></tr>" in panel
    assert "No notes on file." in text_of(desk.get(patient_url(avery)))


def test_the_suggestions_and_reminders_panels_of_the_other_apps_are_on_the_page(
    desk, patient, book
):
    rowan = patient()
    book(rowan, in_days=5)

    html = desk.get(patient_url(rowan)).content.decode()

    registered = {panel.key for panel in extensions.patient_panels()}
    assert {"suggestions", "reminders"} <= registered
    for key in registered:
        assert f'data-panel="{key}"' in html


def test_opening_a_patient_is_in_the_access_audit(desk, patient):
    rowan = patient()

    desk.get(patient_url(rowan), REMOTE_ADDR="10.0.0.7")

    entry = AccessLogEntry.objects.get()
    assert (entry.username, entry.role, entry.patient_id) == ("frontdesk", "front_desk", rowan)
    assert (entry.action, entry.outcome, entry.status_code) == ("read", "returned", 200)
    assert entry.endpoint == "GET /admin/crm/patientprofile/<path:object_id>/change/"
    assert entry.source_address == "10.0.0.7"


def test_older_entries_continue_where_the_page_stopped(desk, patient):
    rowan = patient()
    for n in range(55):
        handlers.note_add(patient_id=rowan, text=f"Note {n}", actor=AGENT)

    first = desk.get(patient_url(rowan))
    older = desk.get(patient_url(rowan), {"older_than": first.context["page"].timeline.older_than})

    assert "Note 54" in text_of(first) and "Note 4 " not in text_of(first)
    assert "Note 4 " in text_of(older) and "Registered Rowan" in text_of(older)


def test_the_front_desk_index_offers_search_and_registration(desk, supervisor):
    index = text_of(desk.get(reverse("admin:index")))

    assert "Find a patient" in index and "Register a patient" in index
    assert "Supervisor dashboard" not in index
    assert "Supervisor dashboard" in text_of(supervisor.get(reverse("admin:index")))


def test_an_unknown_patient_is_a_plain_not_found(desk):
    assert (
        desk.get(reverse("admin:crm_patientprofile_change", args=["not-a-uuid"])).status_code == 404
    )
    assert (
        desk.get(
            reverse(
                "admin:crm_patientprofile_change", args=["00000000-0000-4000-8000-000000000000"]
            )
        ).status_code
        == 404
    )


def test_every_kind_of_event_reads_as_a_sentence_of_its_own():
    from crm.admin.timeline import described_types
    from crm.domain.events import registered_types

    assert set(registered_types().values()) <= set(described_types())


def test_a_deceased_patients_page_says_so_and_a_booking_is_refused(desk, patient, clinic_now):
    rowan = patient()
    handlers.patient_mark_deceased(
        patient_id=rowan, date_of_death=clinic_now.date() - dt.timedelta(days=3), actor=AGENT
    )

    page = text_of(desk.get(patient_url(rowan)))
    fields = {
        **form_fields(desk.get(action_url(rowan, "schedule")).content.decode()),
        "day": (clinic_now + dt.timedelta(days=3)).date().isoformat(),
        "time": "10:00",
        "provider": "Dr. Sam Oakridge",
        "location": "Main Street Clinic",
    }
    refused = text_of(desk.post(action_url(rowan, "schedule"), fields))

    assert "Recorded as deceased" in page and "No reminders or outreach" in page
    assert "the patient is recorded as deceased" in refused


def test_a_booking_written_past_the_store_in_a_shape_no_release_reads_leaves_the_page_up(
    desk, patient
):
    # Decoded by the store's rule, as the API's timeline is: a row that cannot be read (a
    # field its class lacks, at today's schema version) is shown as such, the page stays up.
    from tests.crm.parking import insert_raw

    rowan = patient()
    booking = "8b1e5a5e-0000-4000-8000-0000000000aa"
    insert_raw(rowan, event_type="AppointmentScheduled", data={"appointment_id": booking, "x": 1})
    insert_raw(
        rowan, event_type="AppointmentConfirmed", data={"appointment_id": booking, "via": "voice"}
    )

    response = desk.get(patient_url(rowan))

    assert response.status_code == 200
    timeline = text_of(response)[text_of(response).index("Timeline (newest first)") :]
    assert "AppointmentScheduled (not readable by this version)" in timeline
    assert "Visit confirmed by phone an appointment" in timeline
