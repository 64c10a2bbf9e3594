"""A patient calls: the front desk finds them by name, date of birth or phone number, and
the list already says when they are next in and whether anything needs care."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import extensions, handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import AccessLogEntry
from tests.admin.pages import text_of

pytestmark = pytest.mark.django_db

LIST = reverse("admin:crm_patientprofile_changelist")
COUNSELOR = Actor(name="crisis.hart", channel="api", role="agent")


def found(client, term: str) -> str:
    response = client.get(LIST, {"q": term})
    assert response.status_code == 200
    return text_of(response)


@pytest.mark.parametrize(
    "typed", ["(617) 555-0134", "617.555.0134", "+1 617 555 0134", "6175550134", "617-555-0134"]
)
def test_the_desk_finds_a_caller_by_their_number_however_it_is_typed(desk, patient, typed):
    patient()
    patient(first_name="Avery", last_name="Larkdale", phone="(212) 555-0188")

    page = found(desk, typed)

    assert "Rowan Quillbrook" in page
    assert "Avery Larkdale" not in page


def test_the_last_digits_of_a_number_are_enough_when_that_is_all_the_caller_gives(desk, patient):
    patient()
    patient(first_name="Avery", last_name="Larkdale", phone="(212) 555-0188")

    assert "Rowan Quillbrook" in found(desk, "555-0134")
    assert "Avery Larkdale" not in found(desk, "555-0134")


@pytest.mark.parametrize("typed", ["05/17/1984", "1984-05-17", "5/17/1984"])
def test_the_desk_finds_a_patient_by_date_of_birth(desk, patient, typed):
    patient()
    patient(first_name="Avery", last_name="Larkdale", date_of_birth=dt.date(1990, 1, 2), phone=None)

    page = found(desk, typed)

    assert "Rowan Quillbrook" in page and "Avery Larkdale" not in page


def test_the_desk_finds_a_patient_by_name_in_any_case_and_order(desk, patient):
    patient(preferred_name="Ro")
    patient(first_name="Avery", last_name="Larkdale", phone=None)

    assert "Ro Quillbrook (Rowan Quillbrook)" in found(desk, "quillbrook, rowan")
    assert "Avery Larkdale" not in found(desk, "QUILL")
    assert "Ro Quillbrook (Rowan Quillbrook)" in found(desk, "Ro Quillbrook")


def test_a_name_with_a_date_of_birth_narrows_to_that_person(desk, patient):
    patient()
    patient(date_of_birth=dt.date(2001, 3, 4), phone="(212) 555-0188")

    page = found(desk, "Quillbrook 03/04/2001")

    assert "Mar 4, 2001" in page and "May 17, 1984" not in page


def test_a_number_nobody_has_finds_nobody(desk, patient):
    patient()

    page = found(desk, "(415) 555-0199")

    assert "Rowan Quillbrook" not in page
    assert "0 patient profiles" in page or "0 results" in page


def test_the_list_shows_the_next_visit_and_the_flags_to_see_before_speaking(
    desk, patient, book, clinic_now
):
    rowan = patient()
    book(rowan, in_days=-2)  # its start time passed: not "next"
    book(rowan, in_days=3, appointment_type=ev.AppointmentType.THERAPY)
    handlers.consent_record(
        patient_id=rowan,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=COUNSELOR,
    )
    handlers.crisis_contact_record(
        patient_id=rowan,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=COUNSELOR,
    )
    patient(first_name="Avery", last_name="Larkdale", phone=None)

    page = found(desk, "")

    rowan_row = page[page.index("Rowan Quillbrook") :]
    assert "Therapy" in rowan_row.split("Avery")[0]
    assert "Crisis · high risk" in page
    assert "SMS reminders ✓" in page
    assert "No SMS consent" in page  # Avery was never asked


def test_the_list_costs_the_same_few_queries_for_one_patient_or_many(
    desk, patient, notes_extensions
):
    patient(first_name="Patient0", phone="+16175550100")
    with CaptureQueriesContext(connection) as one:
        assert desk.get(LIST).status_code == 200
    for n in range(1, 30):
        patient(first_name=f"Patient{n}", phone=f"+1617555{n:04d}")

    with CaptureQueriesContext(connection) as many:
        response = desk.get(LIST)

    assert response.status_code == 200 and "Patient29" in text_of(response)
    # Eight of its own, the audit's one insert, and one per count other apps add.
    assert len(one) == len(many) <= 9 + len(extensions.patient_counts())


def test_the_list_shows_what_other_apps_count_per_patient(desk, patient, notes_extensions):
    rowan = patient()
    patient(first_name="Avery", last_name="Larkdale", phone=None)
    for text in ("Prefers mornings.", "Asked about parking."):
        handlers.note_add(patient_id=rowan, text=text, actor=COUNSELOR)

    html = desk.get(LIST).content.decode()

    assert ">Notes</" in html  # the count's column, labelled as registered
    rows = {
        name: row for row in html.split("<tr")[1:] for name in ("Rowan", "Avery") if name in row
    }
    assert re.search(r'field-count_test-notes">2<', rows["Rowan"])
    assert re.search(r'field-count_test-notes">0<', rows["Avery"])


def test_each_search_is_in_the_access_audit_with_every_patient_it_showed(desk, patient):
    rowan = patient()
    avery = patient(first_name="Avery", phone="(617) 555-0135")

    found(desk, "Quillbrook")
    found(desk, "(415) 555-0199")

    rows = list(AccessLogEntry.objects.order_by("id").values_list("patient_id", "outcome"))
    assert sorted(rows[:2], key=str) == sorted(
        [(rowan, "search_match"), (avery, "search_match")], key=str
    )
    assert rows[2:] == [(None, "no_match")]
    entry = AccessLogEntry.objects.order_by("id").first()
    assert (entry.username, entry.role, entry.action) == ("frontdesk", "front_desk", "read")
    assert entry.endpoint == "GET /admin/crm/patientprofile/"
    assert entry.source_address == "127.0.0.1" and entry.query_digest


def test_someone_without_a_clinic_role_cannot_see_patients_even_as_superuser(staff, patient):
    patient()
    root = staff("it.admin", superuser=True)
    nobody = staff("temp.worker")

    assert root.get(LIST).status_code == 403
    assert nobody.get(LIST).status_code == 403
    assert "Patient profiles" not in text_of(root.get(reverse("admin:index")))
