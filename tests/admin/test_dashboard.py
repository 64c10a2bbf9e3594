"""The supervisor's dashboard: charts over a chosen range, for supervisors only."""

from __future__ import annotations

import datetime as dt
import html as entities
import re
import zoneinfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import extensions, handlers
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

    call(3, 9, reason_code="billing", resolved_first_contact=True, wrap_up_seconds=60)
    call(5, 9, reason_code="billing", resolved_first_contact=True, wrap_up_seconds=60)
    call(4, 14, reason_code="directions", resolved_first_contact=True, channel=ev.Channel.CHAT)
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


def test_a_range_longer_than_a_year_is_explained(supervisor, db):
    page = text_of(supervisor.get(DASHBOARD, {"start": "2024-01-01", "end": "2025-03-09"}))

    assert "Choose a range of at most 366 days." in page
    assert "by day." in page  # the last four weeks instead


def test_a_quarter_is_drawn_week_by_week(supervisor, busy_week):
    page = text_of(supervisor.get(DASHBOARD, {"start": "2025-01-06", "end": "2025-03-30"}))

    assert "by week." in page and "Week of Mar 3 4" in page


def test_events_not_yet_counted_are_announced(supervisor, patient):
    patient()  # registered, but the metrics projection has not caught up

    page = text_of(supervisor.get(DASHBOARD))

    assert "1 recent events are not counted yet" in page


def test_the_dashboard_costs_the_same_few_queries_for_a_day_or_a_year(supervisor, busy_week):
    # Other apps' sections may take a few queries each (crm.extensions says so).
    # The pipeline's panel: three queries and one per catch-up projection.
    # The churn panel: its three read models and its lag, whatever the range.
    budget = 14 + 3 * len(extensions.dashboard_sections()) + 3 + len(runner.registered()) + 4
    with CaptureQueriesContext(connection) as week:
        assert supervisor.get(DASHBOARD, WEEK).status_code == 200
    with CaptureQueriesContext(connection) as year:
        assert (
            supervisor.get(DASHBOARD, {"start": "2024-04-01", "end": "2025-03-31"}).status_code
            == 200
        )

    assert len(week) == len(year) <= budget


@pytest.fixture
def callbacks_section(monkeypatch):  # type: ignore[no-untyped-def]
    """A section registered the way engagement and reminders register theirs."""

    def load(first: dt.date, last: dt.date, now: dt.datetime) -> dict:
        return {
            "title": "Callbacks by kind and age",
            "caption": "Callbacks still waiting, whatever the range.",
            "columns": ["Kind", "< 1 day", "> 1 day", "Average wait (h)"],
            "rows": [["Crisis follow-up", 2, 1, 20.5], ["Missed call", 0, 4, None]],
            "chart": {
                "labels": ["Crisis follow-up", "Missed call"],
                "series": [
                    {"name": "< 1 day", "values": [2, 0]},
                    {"name": "> 1 day", "values": [1, 4]},
                ],
            },
        }

    monkeypatch.setitem(
        extensions._DASHBOARD, "test-callbacks", extensions.DashboardSection("test-callbacks", load)
    )


def test_a_section_another_app_registers_is_drawn_as_a_table_and_bars(
    supervisor, callbacks_section
):
    html = supervisor.get(DASHBOARD, WEEK).content.decode()

    section = html[html.index('id="section-test-callbacks"') :]
    section = section[: section.index("</section>")]
    assert "<h3>Callbacks by kind and age</h3>" in section
    assert "Callbacks still waiting, whatever the range." in section
    assert "<th>Kind</th><th>&lt; 1 day</th><th>&gt; 1 day</th><th>Average wait (h)</th>" in section
    assert "<td>Crisis follow-up</td><td>2</td><td>1</td><td>20.5</td>" in section
    assert "<td>Missed call</td><td>0</td><td>4</td><td>—</td>" in section
    bars = re.findall(r'<rect class="crm-bar crm-series-(\d)".*?<title>(.*?)</title>', section)
    assert bars == [
        ("0", "Crisis follow-up: 2 &lt; 1 day"),
        ("1", "Crisis follow-up: 1 &gt; 1 day"),
        ("1", "Missed call: 4 &gt; 1 day"),
    ]


def test_a_section_of_the_wrong_shape_fails_loudly_naming_it(supervisor, monkeypatch):
    def load(first: dt.date, last: dt.date, now: dt.datetime) -> dict:
        return {"title": "Broken", "columns": ["Kind", "Count"], "rows": [["Only one cell"]]}

    monkeypatch.setitem(
        extensions._DASHBOARD, "test-broken", extensions.DashboardSection("test-broken", load)
    )

    with pytest.raises(ValueError, match=r"'test-broken'.*as long as 'columns'"):
        supervisor.get(DASHBOARD, WEEK)


def test_the_suggestions_and_reminders_sections_are_on_the_dashboard(supervisor, db):
    html = supervisor.get(DASHBOARD, WEEK).content.decode()

    registered = {section.key for section in extensions.dashboard_sections()}
    assert {"suggestions", "reminders"} <= registered
    for key in registered:
        assert f'data-section="{key}"' in html


def test_reminder_confirmations_and_opt_outs_have_tiles_and_charts(supervisor, db):
    page = text_of(supervisor.get(DASHBOARD, WEEK))

    assert "Reminders confirmed by text — 0 of 0 reminded visits" in page
    assert "Text opt-outs — 0 opt-outs over 0 reminder texts" in page
    html = supervisor.get(DASHBOARD, WEEK).content.decode()
    assert 'id="chart-reminder-confirmations"' in html and 'id="chart-opt-outs"' in html


def test_every_tile_and_chart_states_its_numerator_and_denominator(supervisor, busy_week):
    response = supervisor.get(DASHBOARD, WEEK)
    html = response.content.decode()
    page = text_of(response)

    # Below each rate tile, its counts; on hover, exactly what is counted.
    assert "1 of 2 resolved (no repeat within 7 days); 0 marked unresolved, 1 came back" in page
    assert (
        "1 of 4 inbound; 0 hang-ups under 5 s left out; of those, 1 hung up in the queue " in page
    )
    tiles = re.findall(r'<div class="crm-tile" title="([^"]+)">', html)
    assert len(tiles) == 8
    assert any("marked resolved on first contact" in tile for tile in tiles)
    # Under each rate chart, what it counts and the range's numerator over its denominator;
    # each point's tooltip gives that day's.
    for key, over in [
        ("fcr", "Over the range: 1 resolved of 2 first contacts."),
        ("abandonment", "Over the range: 1 ended before reaching an agent of 4 inbound calls"),
        ("aht", "Over the range: 1,020 s over 3 handled contacts."),
    ]:
        chart = html[html.index(f'id="chart-{key}"') :]
        chart = chart[: chart.index("</figure>")]
        assert over in text_of_html(chart), key
    abandonment = html[html.index('id="chart-abandonment"') :]
    assert "Thu Mar 6: 100% (1 ended before reaching an agent of 1 inbound calls and chats)" in (
        abandonment
    )
    assert "missed" in text_of_html(abandonment[: abandonment.index("</figure>")])
    calls = html[html.index('id="chart-calls"') :]
    assert "Mon Mar 3: 1 by phone (of 1)" in calls
    # The table gives each rate with its counts.
    table = text_of_html(html[html.index('id="figures-table"') :])
    assert "Total 4 50.0% (1 / 2) 5 min 40 s 25.0% (1 / 4)" in table


def text_of_html(html: str) -> str:
    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", html)).split())
