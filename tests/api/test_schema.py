"""The OpenAPI schema at /api/schema/ and the browsable docs at /api/docs/."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_a_single_warning(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")


@pytest.fixture
def schema(agent):
    response = agent.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_every_endpoint_of_the_contract_is_in_the_schema(schema):
    assert {
        "/api/v1/patients/lookup",
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/",
        "/api/v1/patients/{patient_id}/timeline/",
        "/api/v1/patients/{patient_id}/contact-details/",
        "/api/v1/patients/{patient_id}/consents/",
        "/api/v1/patients/{patient_id}/calls/",
        "/api/v1/patients/{patient_id}/notes/",
        "/api/v1/patients/{patient_id}/crisis-contacts/",
        "/api/v1/patients/{patient_id}/appointments/",
        "/api/v1/patients/{patient_id}/appointments/{appointment_id}/reschedule/",
        "/api/v1/patients/{patient_id}/appointments/{appointment_id}/confirm/",
        "/api/v1/patients/{patient_id}/appointments/{appointment_id}/cancel/",
        "/api/v1/patients/{patient_id}/appointments/{appointment_id}/complete/",
        "/api/v1/patients/{patient_id}/appointments/{appointment_id}/no-show/",
        "/api/v1/audit/",
    } <= set(schema["paths"])


def test_writes_document_their_headers_and_every_error_as_problem_json(schema):
    operation = schema["paths"]["/api/v1/patients/{patient_id}/calls/"]["post"]

    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"If-Match", "Idempotency-Key"} <= headers
    assert set(operation["responses"]) >= {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "412",
        "413",
        "415",
        "422",
        "429",
    }
    created = operation["responses"]["201"]
    assert {"ETag", "Location", "Idempotent-Replayed"} <= set(created["headers"])
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert list(response["content"]) == ["application/problem+json"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/patients/{patient_id}/notes/", "post"),
        ("/api/v1/suggestions/{suggestion_id}/claim/", "post"),
        ("/api/v1/patients/{patient_id}/timeline/", "get"),
    ],
)
def test_a_record_this_release_cannot_read_is_a_documented_503(schema, path, method):
    responses = schema["paths"][path][method]["responses"]

    assert "record-unreadable" in responses["503"]["description"]
    assert "application/problem+json" in responses["503"]["content"]


def test_the_lookup_documents_its_parameters_and_its_404(schema):
    operation = schema["paths"]["/api/v1/patients/lookup"]["get"]

    params = {p["name"]: p for p in operation["parameters"]}
    assert params["phone"]["required"] is True
    assert "patient" in params
    assert "ETag" in operation["responses"]["200"]["headers"]
    assert "normalized_phone" in operation["responses"]["404"]["description"]


def test_the_browsable_docs_are_served_to_staff(agent):
    response = agent.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
