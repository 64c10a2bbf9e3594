"""POST /api/v1/patients/{id}/contact-details/: a new number, email or time zone."""

from __future__ import annotations

import pytest

from tests.api.conftest import problem, stream, url

pytestmark = pytest.mark.django_db


def test_a_new_number_is_recorded_and_found_by_the_next_lookup(agent, patient):
    response = agent.post(
        url(patient, "contact-details/"),
        {"phone": "(312) 555-0110", "email": "rowan@example.org", "timezone": ""},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["changed"] is True
    assert response["ETag"] == '"2"'
    assert "Location" not in response
    pop = agent.get("/api/v1/patients/lookup", {"phone": "312-555-0110"}).json()["patient"]
    assert pop["patient_id"] == str(patient)
    assert pop["timezone"] == "America/Chicago"
    problem(agent.get("/api/v1/patients/lookup", {"phone": "617-555-0134"}), 404)


def test_sending_the_same_details_again_changes_nothing(agent, patient):
    details = {"phone": "617-555-0134", "email": "", "timezone": ""}

    response = agent.post(url(patient, "contact-details/"), details, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "patient_id": str(patient),
        "version": 1,
        "changed": False,
        "events": [],
    }
    assert stream(patient) == ["PatientRegistered"]


def test_the_number_can_be_removed_with_null(agent, patient):
    response = agent.post(
        url(patient, "contact-details/"),
        {"phone": None, "email": "", "timezone": ""},
        format="json",
    )

    assert response.status_code == 200
    assert agent.get(url(patient)).json()["phone"] is None


def test_leaving_a_detail_out_is_refused_rather_than_erasing_it(agent, patient):
    body = problem(
        agent.post(url(patient, "contact-details/"), {"phone": "312-555-0110"}, format="json"), 400
    )

    assert set(body["errors"]) == {"email", "timezone"}
    assert stream(patient) == ["PatientRegistered"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "312-555"}, "phone"),
        ({"email": "rowan at example"}, "email"),
        ({"timezone": "Central"}, "timezone"),
    ],
)
def test_a_bad_detail_is_a_400_naming_it(agent, patient, change, field):
    details = {"phone": "617-555-0134", "email": "", "timezone": "", **change}

    body = problem(agent.post(url(patient, "contact-details/"), details, format="json"), 400)

    assert list(body["errors"]) == [field]
    assert stream(patient) == ["PatientRegistered"]


@pytest.mark.parametrize("zone", ["right/America/New_York", "localtime", "Factory"])
def test_a_zone_file_that_is_no_place_a_patient_lives_is_refused_naming_timezone(
    agent, patient, zone
):
    # "right/America/New_York" would put the patient in daylight time all December and
    # their quiet hours an hour off; "localtime" means whatever zone the host runs in.
    body = problem(
        agent.post(
            url(patient, "contact-details/"),
            {"phone": "617-555-0134", "email": "", "timezone": zone},
            format="json",
        ),
        400,
    )

    assert list(body["errors"]) == ["timezone"]
    assert stream(patient) == ["PatientRegistered"]
