"""The dashboard's churn panel: the definition beside the charts, and each month's churn and
retention with its numerator and denominator, as a supervisor reads them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from crm.projections import runner
from tests.crm import churn_story as story

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:supervisor_dashboard")
CLINIC = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def lapsed_last_month() -> str:
    today = timezone.now().astimezone(CLINIC).date()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = dt.datetime.combine(first, dt.time(12), tzinfo=CLINIC)
    for n, days_before in enumerate((80, 10, 20, 30)):
        patient = story.patient(n, at=start - dt.timedelta(days=300))
        story.visit(patient, start - dt.timedelta(days=days_before))
    runner.catch_up_all()
    return f"{first:%b %Y}"


def test_the_panel_states_the_definition_and_each_months_numerator_and_denominator(
    supervisor, lapsed_last_month
):
    page = supervisor.get(DASHBOARD).content.decode()

    assert "In care: a completed visit in the last 12 months." in page
    assert "90 days after a therapy" in page and "180 days after any other" in page
    assert f"<td>{lapsed_last_month}</td><td>4</td><td>1</td><td>25.0% (1 / 4)</td>" in page
    assert f"{lapsed_last_month}: 25%" in page  # the churn line's point says its month
    assert "1 lapsed of 4 in care at the start" in page


def test_the_panel_follows_the_churn_settings(supervisor, lapsed_last_month):
    with override_settings(CHURN_ACTIVE_MONTHS=6, CHURN_LAPSE_DAYS={"therapy": 60, "other": 90}):
        page = supervisor.get(DASHBOARD).content.decode()

    assert "In care: a completed visit in the last 6 months." in page
    assert "60 days after a therapy" in page
