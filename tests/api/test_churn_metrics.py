"""GET /api/v1/metrics/ carries churn per month and 12-month retention, each rate with its
numerator and denominator, the definition's settings, and the breakdowns."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import override_settings
from django.utils import timezone

from crm.domain import events as ev
from crm.projections import runner
from tests.crm import churn_story as story

pytestmark = pytest.mark.django_db

METRICS = "/api/v1/metrics/"
CLINIC = zoneinfo.ZoneInfo("America/New_York")


def last_month_start() -> dt.datetime:
    today = timezone.now().astimezone(CLINIC).date()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return dt.datetime.combine(first, dt.time(12), tzinfo=CLINIC)


@pytest.fixture
def last_month() -> dt.datetime:
    """Two therapy patients in care when last month began; one lapses 10 days into it."""
    start = last_month_start()
    lapsing = story.patient(1, at=start - dt.timedelta(days=200))
    story.visit(lapsing, start - dt.timedelta(days=80))
    staying = story.patient(2, at=start - dt.timedelta(days=200), language="es")
    story.visit(staying, start - dt.timedelta(days=10), ev.AppointmentType.PSYCHIATRY)
    runner.catch_up_all()
    return start


def test_the_metrics_carry_last_months_churn_with_its_numerator_and_denominator(
    supervisor, last_month
):
    today = timezone.now().astimezone(CLINIC).date()
    response = supervisor.get(METRICS, {"from": today.isoformat(), "to": today.isoformat()})

    assert response.status_code == 200
    churn = response.json()["churn"]
    months = {m["month"]: m for m in churn["months"]}
    assert len(churn["months"]) == 12 and churn["months"][-1]["partial"] is True
    month = months[f"{last_month:%Y-%m}"]
    assert (month["lapsed"], month["in_care_at_start"], month["churn_rate"]) == (1, 2, 0.5)
    assert month["by_visit_type"]["therapy"]["lapsed"] == 1
    assert month["by_language"]["es"] == {
        "in_care_at_start": 1,
        "lapsed": 0,
        "churn_rate": 0.0,
        "retention_base": 0,
        "retained": 0,
        "retention_rate": None,
    }
    assert month["left_out"] == {"deceased": 0, "merged": 0, "opted_out": 0}
    languages = {g["key"]: g for g in churn["by_language"]}
    assert languages["en"]["label"] == "English" and languages["en"]["lapsed"] == 1
    definition = churn["definition"]
    assert definition["active_months"] == 12 and definition["other_lapse_days"] == 180
    assert definition["lapse_days"] == {"psychiatry": 90, "therapy": 90}
    assert "90 days after a therapy" in definition["caption"]


def test_the_churn_follows_the_settings_at_the_moment_it_is_read(supervisor, last_month):
    today = timezone.now().astimezone(CLINIC).date().isoformat()
    with override_settings(CHURN_LAPSE_DAYS={"therapy": 120, "other": 180}):
        churn = supervisor.get(METRICS, {"from": today, "to": today}).json()["churn"]

    month = next(m for m in churn["months"] if m["month"] == f"{last_month:%Y-%m}")
    assert (month["lapsed"], month["in_care_at_start"]) == (0, 2)
    assert churn["definition"]["lapse_days"] == {"therapy": 120}


def test_an_agent_gets_no_churn_figures(agent):
    today = timezone.now().date().isoformat()
    assert agent.get(METRICS, {"from": today, "to": today}).status_code == 403
