"""The rest of the patient page's actions: name and date of birth, tests ordered and done,
taking down a crisis flag (clinicians only), recording a death; and every action in the
access audit."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import AccessLogEntry, Event, PatientProfile
from tests.admin.pages import action_url, form_fields, patient_url, text_of

pytestmark = pytest.mark.django_db

AGENT = Actor(name="agent.cedar", channel="api", role="agent")


def send(client, patient_id, action, query=None, **changes):
    """Fill the form as drawn with `changes` and send it, following the redirect."""
    page = client.get(action_url(patient_id, action), query or {})
    assert page.status_code == 200
    fields = form_fields(page.content.decode())
    fields.update({key: str(value) for key, value in changes.items()})
    return client.post(action_url(patient_id, action), fields, follow=True)


def events_of(patient_id) -> list[str]:
    rows = Event.objects.filter(stream_id=patient_id).order_by("version")
    return list(rows.values_list("event_type", flat=True))


def offered(client, patient_id) -> str:
    page = text_of(client.get(patient_url(patient_id)))
    return page[page.index("Actions") : page.index("Consent to be contacted")]


# --- name, date of birth, language --------------------------------------------------------


def test_a_misspelled_name_and_date_of_birth_are_corrected(desk, patient):
    rowan = patient()

    response = send(
        desk,
        rowan,
        "demographics",
        first_name="Rowen",
        date_of_birth="05/18/1984",
        language="es",
    )

    assert "Name and details saved." in text_of(response)
    profile = PatientProfile.objects.get(patient_id=rowan)
    assert (profile.first_name, profile.date_of_birth, profile.language) == (
        "Rowen",
        dt.date(1984, 5, 18),
        "es",
    )
    assert events_of(rowan)[-1] == "DemographicsChanged"


def test_the_demographics_form_starts_from_the_record_and_unchanged_records_nothing(desk, patient):
    rowan = patient(preferred_name="Ro")

    response = send(desk, rowan, "demographics")

    assert "Nothing changed." in text_of(response)
    assert events_of(rowan) == ["PatientRegistered"]


def test_a_language_the_list_does_not_offer_is_kept_when_the_name_is_corrected(desk, patient):
    rowan = patient(language="de")

    send(desk, rowan, "demographics", first_name="Rowen")

    profile = PatientProfile.objects.get(patient_id=rowan)
    assert (profile.first_name, profile.language) == ("Rowen", "de")


def test_a_birth_date_in_the_future_is_refused_on_its_field_and_nothing_is_saved(
    desk, patient, clinic_now
):
    rowan = patient()
    tomorrow = (clinic_now + dt.timedelta(days=2)).date().isoformat()

    response = send(desk, rowan, "demographics", date_of_birth=tomorrow)

    page = text_of(response)
    assert response.redirect_chain == []
    assert "in the future" in page
    assert events_of(rowan) == ["PatientRegistered"]


# --- tests ordered and done ---------------------------------------------------------------


def test_a_test_is_ordered_shown_on_the_page_and_marked_done(desk, patient, clinic_now):
    rowan = patient()
    due = (clinic_now + dt.timedelta(days=10)).date()

    ordered = send(desk, rowan, "order-test", test_name="Lipid panel", due_by=due.isoformat())

    page = text_of(ordered)
    assert f"Ordered: Lipid panel, due by {due:%b} {due.day}, {due:%Y}." in page
    tests = page[page.index("Tests ordered, not yet done") : page.index("Timeline")]
    assert "Lipid panel" in tests and "ordered by frontdesk" in tests
    test_id = Event.objects.get(stream_id=rowan, event_type="TestOrdered").data["test_id"]

    done = send(desk, rowan, "complete-test", {"test": test_id})

    page = text_of(done)
    assert "Done: Lipid panel." in page
    assert "Tests ordered, not yet done" not in page
    assert "Test completed: Lipid panel" in page[page.index("Timeline") :]


def test_a_test_due_in_the_past_is_refused_on_its_field(desk, patient, clinic_now):
    rowan = patient()
    last_week = (clinic_now - dt.timedelta(days=7)).date().isoformat()

    response = send(desk, rowan, "order-test", test_name="HbA1c", due_by=last_week)

    assert "Due by" in text_of(response) and "is in the past" in text_of(response)
    assert events_of(rowan) == ["PatientRegistered"]


def test_a_test_marked_done_elsewhere_meanwhile_is_not_marked_again(desk, patient, clinic_now):
    rowan = patient()
    handlers.lab_test_order(
        patient_id=rowan, test_name="HbA1c", due_by=clinic_now.date(), actor=AGENT
    )
    test_id = Event.objects.get(stream_id=rowan, event_type="TestOrdered").data["test_id"]
    page = desk.get(action_url(rowan, "complete-test"), {"test": test_id})
    fields = form_fields(page.content.decode())
    handlers.lab_test_complete(patient_id=rowan, test_id=uuid.UUID(test_id), actor=AGENT)

    response = desk.post(action_url(rowan, "complete-test"), fields)

    assert "no longer open" in text_of(response)
    assert events_of(rowan).count("TestCompleted") == 1


# --- the crisis flag ---------------------------------------------------------------------


@pytest.fixture
def in_crisis(patient):  # type: ignore[no-untyped-def]
    rowan = patient()
    handlers.crisis_contact_record(
        patient_id=rowan,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=AGENT,
    )
    return rowan


def test_a_clinician_clears_the_crisis_flag_with_a_reason(clinician, in_crisis):
    assert "Clear the crisis flag" in offered(clinician, in_crisis)

    response = send(
        clinician, in_crisis, "clear-crisis-flag", reason="Safety plan reviewed in session."
    )

    page = text_of(response)
    assert "Crisis flag cleared." in page
    assert "Open crisis flag" not in page
    assert PatientProfile.objects.get(patient_id=in_crisis).crisis_flag is False
    assert events_of(in_crisis)[-1] == "CrisisFlagCleared"


def test_the_front_desk_can_neither_see_nor_send_the_clear_crisis_flag_form(desk, in_crisis):
    assert "Clear the crisis flag" not in offered(desk, in_crisis)

    assert desk.get(action_url(in_crisis, "clear-crisis-flag")).status_code == 403
    response = desk.post(action_url(in_crisis, "clear-crisis-flag"), {"reason": "Looks fine"})

    assert response.status_code == 403
    assert PatientProfile.objects.get(patient_id=in_crisis).crisis_flag is True


def test_clearing_needs_a_reason_and_a_flag_that_is_open(clinician, patient, in_crisis):
    blank = send(clinician, in_crisis, "clear-crisis-flag", reason=" ")
    assert "This field is required." in text_of(blank) or "must say why" in text_of(blank)
    calm = patient(first_name="Avery", phone="(617) 555-0135")
    assert "Clear the crisis flag" not in offered(clinician, calm)

    refused = send(clinician, calm, "clear-crisis-flag", reason="Checked in.")

    assert "no open crisis flag" in text_of(refused)
    assert events_of(calm) == ["PatientRegistered"]


# --- a death ------------------------------------------------------------------------------


def test_a_death_is_recorded_only_once_the_person_confirms_the_patient(desk, patient, book):
    rowan = patient()
    book(rowan, in_days=4)

    unconfirmed = send(desk, rowan, "deceased", date_of_death="")
    assert "Tick the box to confirm this is the right patient." in text_of(unconfirmed)
    assert events_of(rowan)[-1] == "AppointmentScheduled"

    response = send(desk, rowan, "deceased", date_of_death="", confirm="on")

    page = text_of(response)
    assert "Recorded as deceased." in page
    assert "Recorded as deceased" in page and "No reminders or outreach" in page
    assert "Record that the patient has died" not in offered(desk, rowan)
    assert events_of(rowan)[-1] == "PatientDeceased"


def test_a_date_of_death_before_birth_is_refused_on_its_field(desk, patient):
    rowan = patient()

    response = send(desk, rowan, "deceased", date_of_death="1970-01-01", confirm="on")

    assert "before the date of birth" in text_of(response)
    assert not PatientProfile.objects.get(patient_id=rowan).deceased


# --- the audit ----------------------------------------------------------------------------


def test_every_action_form_opened_and_sent_is_in_the_access_audit(desk, patient, clinic_now):
    rowan = patient()
    last_week = (clinic_now - dt.timedelta(days=7)).date().isoformat()

    send(desk, rowan, "note", text="Asked for a callback after 3pm.")
    send(desk, rowan, "order-test", test_name="HbA1c", due_by=last_week)

    rows = list(
        AccessLogEntry.objects.order_by("id").values_list(
            "patient_id", "action", "outcome", "status_code", "endpoint"
        )
    )
    action = "/admin/crm/patientprofile/<uuid:patient_id>/do/<slug:action>/"
    assert rows[:2] == [
        (rowan, "read", "returned", 200, f"GET {action}"),
        (rowan, "change", "changed", 200, f"POST {action}"),
    ]
    assert (rowan, "change", "invalid", 400, f"POST {action}") in rows
    assert all(row[0] == rowan for row in rows)


def test_a_refusal_is_audited_as_refused(clinician, patient):
    rowan = patient()

    send(clinician, rowan, "clear-crisis-flag", reason="Checked in.")

    assert AccessLogEntry.objects.filter(
        patient_id=rowan, action="change", outcome="refused", status_code=409
    ).exists()


def test_registering_a_patient_is_audited_as_a_creation(desk, db):
    page = desk.get("/admin/crm/patientprofile/add/")
    fields = form_fields(page.content.decode(), "register-form")
    fields.update(first_name="Tamsin", last_name="Orchardley", date_of_birth="1990-02-03")

    desk.post("/admin/crm/patientprofile/add/", fields)

    created = PatientProfile.objects.get(last_name="Orchardley")
    entry = AccessLogEntry.objects.get(action="create")
    assert (entry.patient_id, entry.outcome) == (created.patient_id, "created")
