"""The supervisor's win-back list as CSV: every lapsed patient with an open win-back suggestion,
the most urgent first, and each patient in the file written to the access audit as an export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.models import AccessLogEntry
from crm.projections import runner
from tests.crm import churn_story as story

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:engagement_suggestion_win_back")


@pytest.fixture
def lapsed():  # type: ignore[no-untyped-def]
    """Two therapy patients silent for 100 days (one after a crisis call), one still in care."""
    now = timezone.now()
    quiet = story.patient(1, at=now - dt.timedelta(days=300))
    story.visit(quiet, now - dt.timedelta(days=100))
    crisis = story.patient(2, at=now - dt.timedelta(days=300))
    story.visit(crisis, now - dt.timedelta(days=100))
    handlers.crisis_contact_record(
        patient_id=crisis,
        risk_level=ev.RiskLevel.MODERATE,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.REVIEWED,
        actor=story.ACTOR,
        occurred_at=now - dt.timedelta(days=150),
    )
    handlers.crisis_flag_clear(
        patient_id=crisis,
        reason="Reviewed",
        actor=story.ACTOR,
        occurred_at=now - dt.timedelta(days=149),
    )
    in_care = story.patient(3, at=now - dt.timedelta(days=300))
    story.visit(in_care, now - dt.timedelta(days=20))
    runner.catch_up_all()
    return quiet, crisis


def test_a_supervisor_downloads_the_win_back_list_most_urgent_first_and_it_is_audited(
    staff, lapsed
):
    quiet, crisis = lapsed
    response = staff("sup.hale", "supervisor").get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="win-back-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["patient_id"] for row in rows] == [str(crisis), str(quiet)]
    first = rows[0]
    assert first["name"] == "Churn2 Testpatient" and first["phone"] == "(617) 555-0102"
    assert first["last_visit_type"] == "therapy" and first["status"] == "open"
    assert first["reach_by"] == "phone" and first["language"] == "English"
    assert first["reason"].startswith("Lapsed from care")
    assert "ranked with the caring contacts" in first["reason"]
    assert int(first["priority"]) < int(rows[1]["priority"])
    audit = AccessLogEntry.objects.filter(action="export")
    assert sorted((str(r.patient_id), r.outcome, r.username) for r in audit) == sorted(
        [(str(quiet), "exported", "sup.hale"), (str(crisis), "exported", "sup.hale")]
    )
    assert {r.endpoint for r in audit} == {"GET /admin/engagement/suggestion/win-back.csv"}


def test_an_empty_list_is_exported_and_audited_too(staff):
    response = staff("sup.hale", "supervisor").get(EXPORT)

    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "patient_id,name,phone,language,last_visit,last_visit_type,lapsed_on,due,priority,"
        "status,assignee,attempts,reach_by,reason"
    ]
    assert AccessLogEntry.objects.get().action == "export"


@pytest.mark.parametrize("role", ["agent", "front_desk", "clinician"])
def test_only_supervisors_may_take_the_list_out(staff, lapsed, role):
    assert staff(f"user.{role}", role).get(EXPORT).status_code == 403
    assert not AccessLogEntry.objects.filter(action="export").exists()
