"""A suggestion's reason quotes times as every other screen does: in the patient's zone,
labelled, with the clinic's clock beside it, so a Chicago patient is never quoted the
clinic's hour as theirs."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.projections import runner
from engagement.models import Suggestion
from engagement.projection import PROJECTION

pytestmark = pytest.mark.django_db

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
CLINIC = zoneinfo.ZoneInfo("America/New_York")


def _clock(moment: dt.datetime) -> str:
    # Written with strftime here, apart from the code under test.
    return f"{moment.hour % 12 or 12}:{moment:%M %p} {moment:%Z}"


def as_the_upcoming_panel_reads(starts_at: dt.datetime) -> str:
    local, clinic = starts_at.astimezone(CHICAGO), starts_at.astimezone(CLINIC)
    return f"{local:%a %b} {local.day}, {local.year}, {_clock(local)} (clinic: {_clock(clinic)})"


@pytest.fixture
def chicago_visit(register, desk) -> tuple[uuid.UUID, dt.datetime]:  # type: ignore[no-untyped-def]
    """Jordan, a Chicago number, booked tomorrow at 18:00 UTC and not confirmed yet."""
    patient_id = register(first_name="Jordan", phone="(312) 555-0177", now=timezone.now())
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    starts_at = dt.datetime.combine(tomorrow, dt.time(18, 0), tzinfo=dt.UTC)
    handlers.appointment_schedule(
        patient_id=patient_id,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=starts_at,
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
    )
    runner.catch_up(PROJECTION)
    return patient_id, starts_at


def _confirmation(suggestions: list[dict]) -> dict:  # type: ignore[type-arg]
    return next(s for s in suggestions if s["kind"] == "confirm_appointment")


def test_the_apis_reason_gives_the_visit_in_the_patients_zone_with_the_clinics_beside_it(
    agent, chicago_visit
):
    patient_id, starts_at = chicago_visit

    body = agent.get(f"/api/v1/patients/{patient_id}/suggestions/").json()

    reason = _confirmation(body["suggestions"])["reason"]
    assert f"Follow-up visit with Dr. Lee {as_the_upcoming_panel_reads(starts_at)}" in reason
    assert " CST" in reason or " CDT" in reason
    # Machine fields stay ISO 8601 in UTC.
    assert _confirmation(body["suggestions"])["due_at"].endswith("Z")


def test_the_screen_pop_quotes_the_same_time(agent, chicago_visit):
    _patient_id, starts_at = chicago_visit

    pop = agent.get("/api/v1/patients/lookup", {"phone": "3125550177"}).json()

    reason = _confirmation(pop["open_suggestions"])["reason"]
    assert as_the_upcoming_panel_reads(starts_at) in reason


def test_a_rebuild_rewrites_reasons_stored_in_the_older_wording(chicago_visit):
    patient_id, starts_at = chicago_visit
    row = Suggestion.objects.get(patient_id=patient_id, kind="confirm_appointment")
    clinic = starts_at.astimezone(CLINIC)
    # The read model as the previous release left it: the clinic's hour, unlabelled.
    older = f"Follow-up visit with Dr. Lee {clinic:%a} {clinic.day} {clinic:%b %H:%M} is not"
    Suggestion.objects.filter(pk=row.pk).update(reason=older + " confirmed; call to confirm.")

    runner.rebuild(PROJECTION)

    rebuilt = Suggestion.objects.get(patient_id=patient_id, kind="confirm_appointment")
    assert rebuilt.reason == (
        f"Follow-up visit with Dr. Lee {as_the_upcoming_panel_reads(starts_at)} is not "
        "confirmed; call to confirm."
    )
