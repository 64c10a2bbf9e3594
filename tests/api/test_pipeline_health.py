"""The pipeline's health as supervisors and monitors read it: parked streams named with
their reason, lag in events and seconds, /healthz and /readyz for the load balancer."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import override_settings

from crm import handlers
from crm.domain import events as ev
from crm.models import AccessLogEntry, Event, ProjectionCheckpoint
from crm.projections import runner
from tests.crm.parking import FUTURE_TYPE, insert_raw

pytestmark = pytest.mark.django_db
HEALTH = "/api/v1/health/projections/"


def crisis(patient, desk) -> None:
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=desk,
    )


def test_the_health_endpoint_names_the_parked_stream_while_the_crisis_reaches_the_queue(
    supervisor, agent, register, desk
):
    stuck, in_crisis = register(first_name="Rowan"), register(first_name="Casey")
    bad = insert_raw(stuck)
    crisis(in_crisis, desk)
    runner.catch_up_all()

    queue = agent.get("/api/v1/suggestions/", {"kind": "crisis_follow_up"}).json()["results"]
    body = supervisor.get(HEALTH).json()

    assert [item["patient_id"] for item in queue] == [str(in_crisis)]
    assert body["healthy"] is False
    by_name = {p["name"]: p for p in body["projections"]}
    assert set(by_name) == {"profile", *runner.registered()}
    suggestions = by_name["suggestions"]
    assert suggestions["alert"] is True and suggestions["lag_events"] == 0
    [parked] = suggestions["parked"]
    assert parked["stream_id"] == str(stuck) and parked["position"] == bad
    assert parked["event_type"] == FUTURE_TYPE and "Unknown event type" in parked["error"]
    assert parked["waiting"] == 1
    read = AccessLogEntry.objects.filter(endpoint__contains="health", patient_id=stuck)
    assert read.count() == len(runner.registered())


def test_lag_is_counted_in_events_and_in_the_age_of_the_oldest_waiting_one(supervisor, register):
    register(first_name="Casey")
    runner.catch_up_all()
    register(first_name="Riley")
    register(first_name="Rowan")

    with override_settings(PIPELINE_LAG_ALERT_SECONDS=3600):
        body = supervisor.get(HEALTH).json()

    assert body["healthy"] is True
    for projection in body["projections"]:
        if not projection["inline"]:
            assert projection["lag_events"] == 2
            assert 0 <= projection["lag_seconds"] < 60
            assert projection["checkpoint"] == projection["log_position"] - 2


def test_only_supervisors_read_the_pipeline(agent, clinician, front_desk):
    for client in (agent, clinician, front_desk):
        response = client.get(HEALTH)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"


def test_healthz_answers_without_credentials_and_says_nothing_of_patients(client, register):
    register()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_readyz_is_503_when_a_projection_stood_still_while_events_wait(client, register):
    runner.catch_up_all()
    assert client.get("/readyz").status_code == 200
    register()
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ProjectionCheckpoint.objects.filter(name="metrics").update(updated_at=long_ago)

    with override_settings(READY_STALL_SECONDS=0):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert "metrics" in response.json()["stalled_projections"]
    runner.catch_up_all()
    with override_settings(READY_STALL_SECONDS=0):
        assert client.get("/readyz").status_code == 200


def test_a_command_on_a_record_this_release_cannot_read_is_a_503_problem_and_nothing_is_written(
    agent, register
):
    stuck = register()
    insert_raw(stuck)
    before = Event.objects.filter(stream_id=stuck).count()

    note = agent.post(f"/api/v1/patients/{stuck}/notes/", {"text": "Called back."}, format="json")

    assert note.status_code == 503
    assert note["Content-Type"] == "application/problem+json"
    assert note.json()["type"] == "/api/problems/record-unreadable"
    assert "Unknown event type 'LetterMailed'" in note.json()["detail"]
    assert Event.objects.filter(stream_id=stuck).count() == before


def test_the_timeline_shows_an_event_this_release_cannot_read_as_there_without_its_data(
    agent, register
):
    stuck = register()
    insert_raw(stuck, metadata={"actor": "agent.newer", "role": "agent", "channel": "api"})

    page = agent.get(f"/api/v1/patients/{stuck}/timeline/")
    one = agent.get(f"/api/v1/patients/{stuck}/timeline/2/")

    assert page.status_code == 200 and one.status_code == 200
    newest, registered = page.json()["results"]
    assert newest == one.json()
    assert newest["version"] == 2 and newest["type"] == "LetterMailed"
    assert newest["readable"] is False and newest["data"] == {}
    assert newest["summary"] == "LetterMailed (not readable by this version)"
    assert newest["recorded_by"] == {"name": "agent.newer", "role": "agent", "channel": "api"}
    assert registered["type"] == "PatientRegistered" and registered["readable"] is True


def test_a_visit_written_past_the_store_in_a_shape_no_release_reads_is_named_not_a_500(
    agent, register
):
    # The entries and the visits they name are decoded by one rule: a row that cannot be
    # read (here a field its class does not have, at today's schema version) is the row's
    # problem, shown as unreadable and named "an appointment", never the page's.
    stuck = register()
    booking = uuid.uuid4()
    recorded = {"actor": "agent.one", "role": "agent", "channel": "api"}
    insert_raw(
        stuck,
        event_type="AppointmentScheduled",
        data={"appointment_id": str(booking), "not_a_field": 1},
        metadata=recorded,
    )
    insert_raw(
        stuck,
        event_type="AppointmentConfirmed",
        data={"appointment_id": str(booking), "via": "voice"},
        metadata=recorded,
    )

    page = agent.get(f"/api/v1/patients/{stuck}/timeline/")

    assert page.status_code == 200
    confirmed, scheduled, _ = page.json()["results"]
    assert confirmed["summary"] == "Visit confirmed by phone: an appointment"
    assert scheduled["readable"] is False
