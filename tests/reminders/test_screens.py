"""What reminders add to the front desk's patient page and the supervisor's dashboard."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import extensions, handlers
from crm.selectors.metrics import checked_section
from reminders.dispatch import dispatch_due
from tests.reminders.conftest import local

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 10, 30)


def test_the_patient_page_lists_each_reminder_with_its_state_and_why(clinic, now):
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.book(patient, local(2026, 11, 5, 10, 0))
    clinic.reminders()
    dispatch_due(now=VISIT - dt.timedelta(hours=72))
    (panel_entry,) = [p for p in extensions.patient_panels() if p.key == "reminders"]

    panel = panel_entry.load(patient, "America/New_York", now)

    assert panel.headers == ("When", "For", "State", "Why")
    assert [(row[2], row[3][:30]) for row in panel.rows] == [
        ("scheduled", ""),
        ("sent", ""),
        ("dropped", "Too late: the appointment had "),
        ("dropped", "The appointment was booked or "),
    ]
    assert panel.rows[1][0] == "Sat Nov 7, 2026, 10:30 AM EST"
    assert panel.tones == ["", "", "warning", "warning"]


def test_the_dashboard_counts_reminders_by_state_and_reason(clinic, now):
    willing = clinic.patient()
    unwilling = clinic.patient(phone="(617) 555-0135", consent=False)
    clinic.book(willing, VISIT)
    clinic.book(unwilling, VISIT)
    clinic.reminders()
    dispatch_due(now=VISIT - dt.timedelta(hours=72))
    (section,) = [s for s in extensions.dashboard_sections() if s.key == "reminders"]

    figures = checked_section("reminders", section.load(dt.date(2026, 11, 1), VISIT.date(), now))

    rows = {row[0]: row[1] for row in figures["rows"]}
    assert (rows["sent"], rows["scheduled"], rows["blocked"]) == (1, 1, 2)
    assert rows["blocked: No SMS consent for appointment reminders"] == 2


def test_a_reminder_the_dispatcher_dropped_stays_dropped_once_the_visit_took_place(clinic, actor):
    # Nothing went out, and not because of the visit: the panel and the dashboard keep the
    # dispatcher's reason instead of "cancelled: the appointment took place".
    patient = clinic.patient()
    visit = clinic.book(patient, VISIT)
    clinic.reminders()
    dispatch_due(now=VISIT + dt.timedelta(minutes=5))
    handlers.appointment_complete(
        patient_id=patient,
        appointment_id=visit,
        actor=actor,
        now=VISIT + dt.timedelta(minutes=40),
    )
    assert {r.state for r in clinic.reminders(patient)} == {"cancelled"}
    (panel_entry,) = [p for p in extensions.patient_panels() if p.key == "reminders"]
    (section,) = [s for s in extensions.dashboard_sections() if s.key == "reminders"]

    panel = panel_entry.load(patient, "America/New_York", VISIT + dt.timedelta(hours=1))
    figures = section.load(dt.date(2026, 11, 1), VISIT.date(), VISIT + dt.timedelta(hours=1))

    assert [(row[2], row[3][:30]) for row in panel.rows] == [
        ("dropped", "Too late: the appointment had "),
        ("dropped", "Too late: the appointment had "),
    ]
    rows = {row[0]: row[1] for row in figures["rows"]}
    assert (rows["dropped"], rows["cancelled"]) == (2, 0)
