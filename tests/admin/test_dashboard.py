"""The supervisor's dashboard: charts over a chosen range, for supervisors only."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.test import override_settings
from django.urls import reverse

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner
from tests.admin.pages import text_of

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:supervisor_dashboard")
CLINIC = zoneinfo.ZoneInfo("America/New_York")
WEEK = {"start": "2025-03-03", "end": "2025-03-09"}
AGENT = Actor(name="agent.cedar", channel="api", role="agent")


@pytest.fixture
def busy_week(patient):  # type: ignore[no-untyped-def]
    """A week of calls: two handled the same reason twice, one by chat, one abandoned."""
    rowan = patient()

    def call(day: int, hour: int, **values) -> None:
        started = dt.datetime(2025, 3, day, hour, tzinfo=CLINIC)
        handlers.call_log(
            patient_id=rowan,
            direction=values.pop("direction", ev.CallDirection.INBOUND),
            started_at=started,
            duration_seconds=values.pop("seconds", 300),
            disposition=values.pop("disposition", ev.CallDisposition.CONNECTED),
            actor=AGENT,
            **values,
        )

    call(3, 9, reason="Billing question", wrap_up_seconds=60)
    call(5, 9, reason="Billing question", wrap_up_seconds=60)
    call(4, 14, reason="Directions and parking", channel=ev.Channel.CHAT)
    call(6, 11, seconds=45, disposition=ev.CallDisposition.ABANDONED)
    runner.catch_up_all()
    return rowan


def test_only_supervisors_see_the_dashboard(desk, clinician, staff, supervisor):
    root = staff("it.admin", superuser=True)

    assert [c.get(DASHBOARD).status_code for c in (desk, clinician, root)] == [403, 403, 403]
    assert supervisor.get(DASHBOARD).status_code == 200


def test_the_dashboard_charts_the_chosen_week_with_its_figures(supervisor, busy_week):
    response = supervisor.get(DASHBOARD, WEEK)

    page = text_of(response)
    html = response.content.decode()
    assert "Mar 3, 2025 to Mar 9, 2025, by day." in page
    assert "Calls 4 3 phone, 1 chat" in page
    assert "First-contact resolution 50.0% 1 of 2 resolved (no repeat within 7 days)" in page
    assert "Average handle time 5 min 40 s over 3 handled contacts" in page
    assert "Abandonment 25.0% 1 of 4 inbound" in page
    calls_chart = html[html.index('id="chart-calls"') : html.index('id="chart-fcr"')]
    assert len(re.findall(r"<rect class=\"crm-bar", calls_chart)) == 4  # Mon, Tue, Wed, Thu
    assert "Mon Mar 3: 1 by phone" in calls_chart
    assert "Tue Mar 4: 1 by chat" in calls_chart
    assert "Nothing to measure in this range." in page  # no visits, no surveys that week


def test_the_thresholds_can_be_tried_without_changing_the_settings(supervisor, busy_week):
    tighter = text_of(supervisor.get(DASHBOARD, {**WEEK, "fcr_repeat_days": 1}))
    lenient = text_of(supervisor.get(DASHBOARD, {**WEEK, "short_abandon_seconds": 60}))

    assert "First-contact resolution 100.0% 3 of 3 resolved (no repeat within 1 day)" in tighter
    assert "Abandonment 0.0% 0 of 3 inbound; 1 hang-ups under 60 s left out" in lenient


@override_settings(METRICS_FCR_REPEAT_DAYS=1, METRICS_SHORT_ABANDON_SECONDS=60)
def test_the_defaults_come_from_the_settings(supervisor, busy_week):
    page = text_of(supervisor.get(DASHBOARD, WEEK))

    assert "no repeat within 1 day" in page and "hang-ups under 60 s left out" in page


def test_a_backwards_range_is_explained_and_the_last_four_weeks_are_shown(supervisor, db):
    page = text_of(supervisor.get(DASHBOARD, {"start": "2025-03-09", "end": "2025-03-03"}))

    assert "The end date is before the start date." in page
    assert "by day." in page


def test_a_quarter_is_drawn_week_by_week(supervisor, busy_week):
    page = text_of(supervisor.get(DASHBOARD, {"start": "2025-01-06", "end": "2025-03-30"}))

    assert "by week." in page and "Week of Mar 3 4" in page


def test_events_not_yet_counted_are_announced(supervisor, patient):
    patient()  # registered, but the metrics projection has not caught up

    page = text_of(supervisor.get(DASHBOARD))

    assert "1 recent events are not counted yet" in page


def test_the_dashboard_costs_the_same_few_queries_for_a_day_or_a_year(
    supervisor, busy_week, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        assert supervisor.get(DASHBOARD, WEEK).status_code == 200
    with django_assert_max_num_queries(12):
        assert (
            supervisor.get(DASHBOARD, {"start": "2024-04-01", "end": "2025-03-31"}).status_code
            == 200
        )
