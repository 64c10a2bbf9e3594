"""A call stored at the calendar's edge (year 1 from an unset .NET DateTime, before the
plausible-range checks existed) is shown on the patient page, never a server error."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from tests.admin.pages import patient_url, text_of
from tests.legacy_times import without_time_bounds

pytestmark = pytest.mark.django_db

AGENT = Actor(name="agent.cedar", channel="api", role="agent")


@pytest.mark.parametrize(
    "started_at",
    [dt.datetime(1, 1, 1, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.UTC)],
    ids=["year-1", "year-9999"],
)
def test_the_patient_page_shows_a_call_stored_at_the_calendars_edge(desk, patient, started_at):
    rowan = patient()
    with without_time_bounds():
        handlers.call_log(
            patient_id=rowan,
            direction=ev.CallDirection.INBOUND,
            started_at=started_at,
            duration_seconds=60,
            disposition=ev.CallDisposition.CONNECTED,
            reason="Billing question",
            actor=AGENT,
        )

    response = desk.get(patient_url(rowan))

    assert response.status_code == 200
    page = text_of(response)
    shown = "Jan 1, 1 " if started_at.year == 1 else "Dec 31, 9999"
    assert f"Last contact: {shown}" in page
    assert "Inbound call, connected: Billing question" in page
