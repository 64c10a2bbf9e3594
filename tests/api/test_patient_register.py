"""POST /api/v1/patients/: the front desk registers a new patient."""

from __future__ import annotations

import uuid

import pytest

from crm.models import AccessLogEntry, Event, PatientProfile
from tests.api.conftest import problem, stream

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"
NEW_PATIENT = {
    "first_name": "Noor",
    "last_name": "Haddad",
    "date_of_birth": "1991-03-09",
    "phone": "617.555.0142",
    "email": "noor@example.org",
}


def test_a_new_patient_is_registered_with_location_and_etag(front_desk):
    response = front_desk.post(PATIENTS, NEW_PATIENT, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    patient_id = uuid.UUID(body["patient_id"])
    assert response["Location"] == f"/api/v1/patients/{patient_id}/"
    assert response["ETag"] == '"1"'
    assert body["display_name"] == "Noor Haddad"
    assert body["phone"] == "+16175550142"
    assert body["timezone"] == "America/New_York"
    assert body["timezone_source"] == "phone"
    assert stream(patient_id) == ["PatientRegistered"]
    assert front_desk.get(response["Location"]).json()["phone"] == "+16175550142"


def test_the_registration_records_who_did_it_through_the_api(front_desk):
    patient_id = front_desk.post(PATIENTS, NEW_PATIENT, format="json").json()["patient_id"]

    metadata = Event.objects.get(stream_id=patient_id).metadata
    assert metadata["actor"] == "frontdesk.fran"
    assert metadata["role"] == "front_desk"
    assert metadata["channel"] == "api"
    assert metadata["actor_id"] == front_desk.user.pk


def test_a_retried_registration_returns_the_first_answer_and_no_twin(front_desk):
    headers = {"HTTP_IDEMPOTENCY_KEY": "b3c1a7e2-4f0d-4d1e-9a53-2f7a1c9e0b11"}
    first = front_desk.post(PATIENTS, NEW_PATIENT, format="json", **headers)
    front_desk.post(f"{first['Location']}notes/", {"text": "Prefers mornings."}, format="json")

    again = front_desk.post(PATIENTS, NEW_PATIENT, format="json", **headers)

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"] == '"1"'
    assert again["Idempotent-Replayed"] == "true"
    assert PatientProfile.objects.count() == 1
    assert stream(uuid.UUID(first.json()["patient_id"])) == ["PatientRegistered", "NoteAdded"]


def test_two_desks_may_use_the_same_key_without_meeting(front_desk, client_for):
    other_desk = client_for("frontdesk.lee", "front_desk")
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key-by-coincidence"}

    first = front_desk.post(PATIENTS, NEW_PATIENT, format="json", **headers)
    second = other_desk.post(
        PATIENTS, {**NEW_PATIENT, "first_name": "Sami"}, format="json", **headers
    )

    assert first.status_code == second.status_code == 201
    assert first.json()["patient_id"] != second.json()["patient_id"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"date_of_birth": "09/03/1991"}, "date_of_birth", "YYYY-MM-DD"),
        ({"date_of_birth": "2199-01-01"}, "date_of_birth", "in the future"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "is after 2199; check the year"),
        ({"date_of_birth": 19910309}, "date_of_birth", "YYYY-MM-DD"),
        ({"phone": "555-0142"}, "phone", "include the area code"),
        ({"phone": "call me"}, "phone", "not a phone number"),
        ({"email": "noor-at-example"}, "email", "not an email address"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a time zone"),
        ({"timezone": "right/America/New_York"}, "timezone", "not a time zone"),
        ({"first_name": "Noor\u001b[31m"}, "first_name", "control characters"),
        ({"preferred_name": "No\u0007or"}, "preferred_name", "control characters"),
        ({"first_name": ""}, "first_name", "may not be blank"),
        ({"first_name": 42}, "first_name", "must be text"),
        ({"last_name": None}, "last_name", "may not be null"),
        ({"first_name": "x" * 201}, "first_name", "no more than 200"),
        ({"language": "English"}, "language", "language code"),
        ({"nickname": "Nono"}, "nickname", "is not a field of this request"),
    ],
)
def test_a_registration_with_a_bad_value_is_a_400_naming_the_field(
    front_desk, change, field, message
):
    body = problem(front_desk.post(PATIENTS, {**NEW_PATIENT, **change}, format="json"), 400)

    assert field in body["errors"]
    assert message in " ".join(body["errors"][field])
    assert body["type"].endswith("/invalid-request")
    assert Event.objects.count() == 0


def test_a_registration_missing_its_names_lists_every_missing_field(front_desk):
    body = problem(front_desk.post(PATIENTS, {"phone": "6175550142"}, format="json"), 400)

    assert set(body["errors"]) == {"first_name", "last_name", "date_of_birth"}
    assert "(and 2 more; see errors)" in body["detail"]


def test_the_registration_is_audited_as_a_create(front_desk):
    patient_id = front_desk.post(PATIENTS, NEW_PATIENT, format="json").json()["patient_id"]

    row = AccessLogEntry.objects.get()
    assert (str(row.patient_id), row.action, row.outcome, row.status_code) == (
        patient_id,
        "create",
        "created",
        201,
    )
    assert row.endpoint == "POST /api/v1/patients/"
