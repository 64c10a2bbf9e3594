"""The supervisor opens the dashboard in a real browser and the charts draw with data,
the open suggestions of the engagement app included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = Actor(name="agent.cedar", channel="api", role="agent")


def test_the_dashboard_draws_its_charts_from_the_last_weeks_calls(login):
    now = timezone.now()
    patient = handlers.patient_register(
        first_name="Rowan",
        last_name="Quillbrook",
        date_of_birth=dt.date(1984, 5, 17),
        phone="(617) 555-0134",
        actor=AGENT,
    ).patient_id
    for days_ago in range(1, 8):
        for hour, disposition in (
            (1, ev.CallDisposition.CONNECTED),
            (2, ev.CallDisposition.ABANDONED),
        ):
            handlers.call_log(
                patient_id=patient,
                direction=ev.CallDirection.INBOUND,
                started_at=now - dt.timedelta(days=days_ago, hours=hour),
                duration_seconds=200 if disposition is ev.CallDisposition.CONNECTED else 40,
                disposition=disposition,
                reason=f"question {days_ago}",
                actor=AGENT,
            )
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.MODERATE,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.REVIEWED,
        actor=AGENT,
    )
    runner.catch_up_all()  # metrics, and the suggestions a crisis contact opens
    page = login("supervisor", "supervisor")

    page.get_by_role("link", name="Supervisor dashboard").click()

    calls = page.locator("#chart-calls svg")
    assert calls.locator("rect.crm-bar").count() >= 7
    assert page.locator("#chart-aht svg circle.crm-point").count() >= 7
    assert page.locator("#chart-abandonment svg polyline.crm-line").count() >= 1
    assert calls.bounding_box()["height"] > 100  # drawn, not collapsed
    tiles = page.locator(".crm-tiles").inner_text()
    assert "14" in tiles and "50.0%" in tiles
    suggestions = page.locator("#section-suggestions")
    assert suggestions.locator("svg rect.crm-bar").count() >= 1
    assert "Crisis" in suggestions.locator("tbody").inner_text()
