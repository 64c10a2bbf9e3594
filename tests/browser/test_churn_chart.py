"""The supervisor sees churn and retention on the dashboard in a real browser: the definition
beside the charts, each month's lapsed over in care, and the win-back list to download."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from crm.projections import runner
from tests.crm import churn_story as story

pytestmark = pytest.mark.django_db(transaction=True)

CLINIC = zoneinfo.ZoneInfo("America/New_York")


def test_the_dashboard_draws_churn_per_month_with_its_numerator_and_denominator(login):
    today = timezone.now().astimezone(CLINIC).date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start = dt.datetime.combine(last_month, dt.time(12), tzinfo=CLINIC)
    # Four therapy patients in care when last month began; the one seen 80 days before it
    # lapses 10 days in. Two seen 120 and 160 days before it lapsed in earlier months.
    for n, days_before in enumerate((80, 10, 20, 30)):
        patient = story.patient(n, at=start - dt.timedelta(days=400))
        story.visit(patient, start - dt.timedelta(days=days_before))
    for n, days_before in enumerate((120, 160), start=4):
        patient = story.patient(n, at=start - dt.timedelta(days=400))
        story.visit(patient, start - dt.timedelta(days=days_before))
    # A therapy patient seen every 80 days for more than a year: retained all along.
    steady = story.patient(6, at=start - dt.timedelta(days=500))
    for days_before in (420, 340, 260, 180, 100, 20):
        story.visit(steady, start - dt.timedelta(days=days_before))
    runner.catch_up_all()
    page = login("supervisor", "supervisor")

    page.get_by_role("link", name="Supervisor dashboard").click()

    panel = page.locator("#churn")
    assert (
        "In care: a completed visit in the last 12 months."
        in panel.locator("#churn-definition").inner_text()
    )
    churn = panel.locator("#chart-churn svg")
    assert churn.bounding_box()["height"] > 100  # drawn, not collapsed
    points = churn.locator("circle.crm-point")
    assert points.count() >= 3
    titles = [points.nth(i).locator("title").text_content() for i in range(points.count())]
    assert f"{last_month:%b %Y}: 20% (1 lapsed of 5 in care at the start)" in titles
    retention = panel.locator("#chart-retention svg circle.crm-point title")
    assert f"{last_month:%b %Y}: 100% (1 still in care of 1)" in retention.all_text_contents()
    assert panel.locator("#chart-lapsed-by-visit-type svg rect.crm-bar").count() >= 2
    months = panel.locator("#churn-months tbody").inner_text()
    assert "20.0% (1 / 5)" in months
    assert "Therapy" in panel.locator("[data-group=by-visit-type]").inner_text().title()

    with page.expect_download() as download:
        panel.locator("#win-back-export").click()
    assert download.value.suggested_filename.startswith("win-back-")
