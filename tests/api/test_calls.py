"""POST /api/v1/patients/{id}/calls/: the agent logs the call they just took.

Also where the write protocol is proven end to end: If-Match (412, nothing recorded) and
Idempotency-Key (the first response again, nothing recorded)."""

from __future__ import annotations

import uuid

import pytest

from crm import handlers
from crm.models import AccessLogEntry
from tests.api.conftest import problem, soon, stream, url

pytestmark = pytest.mark.django_db


def a_call(**changes):
    return {
        "direction": "inbound",
        "started_at": soon(hours=-1).isoformat(),
        "duration_seconds": 240,
        "disposition": "connected",
        "reason": "Wants to move Tuesday's visit",
        "resolved_first_contact": True,
        **changes,
    }


def test_a_logged_call_is_recorded_and_addressable(agent, patient):
    response = agent.post(url(patient, "calls/"), a_call(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["changed"] is True
    assert response["ETag"] == '"2"'
    assert response["Location"] == f"/api/v1/patients/{patient}/timeline/2/"
    [recorded] = body["events"]
    assert recorded["type"] == "CallLogged"
    assert recorded["data"]["agent"] == "agent.avery"
    assert recorded["data"]["call_id"] == body["call_id"]
    assert recorded["recorded_by"] == {"name": "agent.avery", "role": "agent", "channel": "api"}
    assert stream(patient) == ["PatientRegistered", "CallLogged"]
    assert agent.get(response["Location"]).json()["data"]["call_id"] == body["call_id"]


def test_a_call_logged_against_the_version_just_read_is_recorded(agent, patient):
    etag = agent.get(url(patient))["ETag"]

    response = agent.post(url(patient, "calls/"), a_call(), format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 201
    assert response["ETag"] == '"2"'


def test_a_stale_if_match_is_a_412_and_records_nothing(agent, patient, desk):
    etag = agent.get(url(patient))["ETag"]
    handlers.note_add(patient_id=patient, text="Front desk: patient called in", actor=desk)

    response = agent.post(url(patient, "calls/"), a_call(), format="json", HTTP_IF_MATCH=etag)

    body = problem(response, 412)
    assert body["current_version"] == 2
    assert list(body["errors"]) == ["If-Match"]
    assert "Nothing was recorded" in body["detail"]
    assert stream(patient) == ["PatientRegistered", "NoteAdded"]


@pytest.mark.parametrize("sent", ['W/"1"', "one", '"1", "2"', '"-1"'])
def test_an_if_match_that_is_not_a_version_is_a_400(agent, patient, sent):
    body = problem(
        agent.post(url(patient, "calls/"), a_call(), format="json", HTTP_IF_MATCH=sent), 400
    )

    assert list(body["errors"]) == ["If-Match"]
    assert stream(patient) == ["PatientRegistered"]


def test_if_match_star_only_asks_that_the_patient_exists(agent, patient):
    ok = agent.post(url(patient, "calls/"), a_call(), format="json", HTTP_IF_MATCH="*")
    missing = agent.post(url(uuid.uuid4(), "calls/"), a_call(), format="json", HTTP_IF_MATCH="*")

    assert ok.status_code == 201
    problem(missing, 404)


def test_a_call_for_an_unknown_patient_is_a_404_even_with_if_match(agent):
    problem(
        agent.post(url(uuid.uuid4(), "calls/"), a_call(), format="json", HTTP_IF_MATCH='"3"'), 404
    )


def test_a_retried_call_returns_the_first_response_and_records_it_once(agent, patient, desk):
    key, call = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}, a_call()
    first = agent.post(url(patient, "calls/"), call, format="json", **key)
    handlers.note_add(patient_id=patient, text="Something else happened since", actor=desk)

    again = agent.post(url(patient, "calls/"), call, format="json", **key)

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert stream(patient) == ["PatientRegistered", "CallLogged", "NoteAdded"]


def test_a_retry_after_the_record_moved_still_gets_the_first_answer_not_a_412(agent, patient, desk):
    key = {"HTTP_IDEMPOTENCY_KEY": "call-2026-11-23-0001", "HTTP_IF_MATCH": '"1"'}
    call = a_call()  # a retry sends the very same request
    first = agent.post(url(patient, "calls/"), call, format="json", **key)
    handlers.note_add(patient_id=patient, text="Moved on", actor=desk)

    again = agent.post(url(patient, "calls/"), call, format="json", **key)

    assert again.status_code == 201
    assert again.json() == first.json()


def test_a_key_reused_for_another_patient_is_a_422_and_records_nothing(agent, patient, register):
    other = register(first_name="Jules", phone="(617) 555-0188")
    key = {"HTTP_IDEMPOTENCY_KEY": "reused-key"}
    agent.post(url(patient, "calls/"), a_call(), format="json", **key)

    body = problem(agent.post(url(other, "calls/"), a_call(), format="json", **key), 422)

    assert list(body["errors"]) == ["Idempotency-Key"]
    assert stream(other) == ["PatientRegistered"]


def test_a_key_reused_for_another_kind_of_request_is_a_422(agent, patient):
    key = {"HTTP_IDEMPOTENCY_KEY": "reused-key"}
    agent.post(url(patient, "notes/"), {"text": "Left a voicemail"}, format="json", **key)

    problem(agent.post(url(patient, "calls/"), a_call(), format="json", **key), 422)
    assert stream(patient) == ["PatientRegistered", "NoteAdded"]


def test_a_refused_attempt_does_not_use_up_its_key(agent, patient):
    key = {"HTTP_IDEMPOTENCY_KEY": "fix-and-retry"}
    problem(
        agent.post(url(patient, "calls/"), a_call(duration_seconds=-5), format="json", **key), 400
    )

    response = agent.post(url(patient, "calls/"), a_call(), format="json", **key)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["has spaces in it", "", "x" * 129, "naïve"])
def test_an_unusable_idempotency_key_is_a_400(agent, patient, key):
    body = problem(
        agent.post(url(patient, "calls/"), a_call(), format="json", HTTP_IDEMPOTENCY_KEY=key), 400
    )
    assert list(body["errors"]) == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"started_at": "2026-11-23T10:00:00"}, "started_at", "UTC offset"),
        ({"started_at": "23/11/2026 10:00"}, "started_at", "ISO 8601"),
        ({"started_at": soon(days=2).isoformat()}, "started_at", "in the future"),
        ({"duration_seconds": "240"}, "duration_seconds", "whole number"),
        ({"duration_seconds": 240.5}, "duration_seconds", "whole number"),
        ({"duration_seconds": -1}, "duration_seconds", "greater than or equal to 0"),
        ({"duration_seconds": 10**30}, "duration_seconds", "less than or equal to 86400"),
        ({"hold_seconds": 500}, "hold_seconds", "must not exceed duration_seconds"),
        ({"disposition": "hung_up"}, "disposition", "use one of: connected, voicemail"),
        ({"direction": 1}, "direction", "is not allowed"),
        ({"resolved_first_contact": "yes"}, "resolved_first_contact", "true or false"),
        (
            {"disposition": "voicemail", "resolved_first_contact": True},
            "resolved_first_contact",
            "only be true for a call that connected",
        ),
        ({"agent": "someone.else"}, "agent", "is not a field of this request"),
    ],
)
def test_a_call_with_a_bad_value_is_a_400_naming_the_field_and_records_nothing(
    agent, patient, change, field, message
):
    body = problem(agent.post(url(patient, "calls/"), a_call(**change), format="json"), 400)

    assert field in body["errors"], body
    assert message in " ".join(body["errors"][field])
    assert stream(patient) == ["PatientRegistered"]


def test_a_call_on_a_record_merged_away_is_a_409_pointing_at_the_survivor(agent, register, desk):
    survivor = register()
    duplicate = register()
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=desk
    )

    body = problem(agent.post(url(duplicate, "calls/"), a_call(), format="json"), 409)

    assert str(survivor) in body["detail"]
    assert body["type"].endswith("/command-refused")


def test_logging_a_call_is_audited_as_a_change(agent, patient):
    key = {"HTTP_IDEMPOTENCY_KEY": "audited-call"}
    agent.post(url(patient, "calls/"), a_call(), format="json", **key)
    agent.post(url(patient, "calls/"), a_call(), format="json", **key)

    rows = [(r.patient_id, r.action, r.outcome) for r in AccessLogEntry.objects.order_by("id")]
    assert rows == [(patient, "change", "changed"), (patient, "change", "replayed")]
