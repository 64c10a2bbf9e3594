"""The contract a generated client is built from: what /api/schema/ declares matches what
the server reads and sends (every response of the API tests is also checked against it,
see schema_check.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from crm.api.schema import problem_types
from tests.api import schema_check

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture
def schema(agent) -> dict[str, Any]:
    response = agent.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def _resolved(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The schema a property or a response names: its own, or the one it refers to."""
    if "$ref" in spec:
        return _component(schema, spec["$ref"].rsplit("/", 1)[-1])
    if len(spec.get("allOf", [])) == 1:  # a reference with a description of its own
        return _resolved(schema, spec["allOf"][0])
    return spec


def _operations(schema: dict[str, Any]):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_schema_served_is_a_valid_openapi_document_and_the_one_tests_check_against(schema):
    validate(schema)

    assert schema == schema_check.document()


def test_every_problem_type_is_an_enum_value_and_documented_in_docs_api_md(schema):
    declared = _component(schema, "ProblemType")["enum"]
    documented = set(re.findall(r"`(/api/problems/[a-z-]+|about:blank)`", DOCS.read_text()))

    assert declared == problem_types()
    assert {"/api/problems/suggestion-claimed", "/api/problems/invalid-request"} <= set(declared)
    assert set(declared) <= documented
    problem = _component(schema, "Problem")["properties"]["type"]
    assert _resolved(schema, problem)["enum"] == declared


def test_objects_that_may_be_null_are_declared_so(schema):
    null = {"$ref": "#/components/schemas/NullEnum"}

    assert null in _component(schema, "Lookup")["properties"]["patient"]["oneOf"]
    assert null in _component(schema, "Profile")["properties"]["last_crisis"]["oneOf"]
    assert _component(schema, "NullEnum") == {"enum": [None]}


def test_closed_vocabularies_are_enums_with_their_values(schema):
    complete = _component(schema, "SuggestionCompleteRequest")["properties"]["outcome"]
    reminder = _component(schema, "Reminder")["properties"]["kind"]
    channel = _component(schema, "RecordedBy")["properties"]["channel"]
    closed_by = _component(schema, "Suggestion")["properties"]["closed_by"]

    assert {"type": "string", "enum": ["reached", "not_reached", "keeps_texts", "opted_out"]} in (
        complete["anyOf"]
    )
    assert _resolved(schema, reminder)["enum"] == ["reminder", "satisfaction"]
    channels = [_resolved(schema, part).get("enum") for part in channel["oneOf"]]
    assert ["api", "admin", "sms", "job", "fixture", "system"] in channels and [None] in channels
    closed = [_resolved(schema, part).get("enum") for part in closed_by["oneOf"]]
    assert ["agent", "rule"] in closed and [""] in closed


def test_a_claim_held_by_another_agent_declares_who_and_until_when(schema):
    claim = schema["paths"]["/api/v1/suggestions/{suggestion_id}/claim/"]["post"]
    problem = claim["responses"]["409"]["content"]["application/problem+json"]["schema"]

    properties = _resolved(schema, problem)["properties"]
    assert properties["claimed_by"]["type"] == "string"
    assert properties["claimed_until"]["format"] == "date-time"


def test_headers_are_declared_where_they_are_sent(schema):
    calls = schema["paths"]["/api/v1/patients/{patient_id}/calls/"]["post"]["responses"]
    lookup = schema["paths"]["/api/v1/patients/lookup"]["get"]["responses"]

    location = calls["201"]["headers"]["Location"]["schema"]
    assert location == {"type": "string"}  # a relative reference, so no format: uri
    assert {"ETag", "Idempotent-Replayed"} <= set(calls["201"]["headers"])
    assert "ETag" in lookup["200"]["headers"]
    for path, method, operation in _operations(schema):
        unauthorized = operation["responses"]["401"]
        assert "WWW-Authenticate" in unauthorized.get("headers", {}), (path, method)


def test_every_list_pages_by_cursor_with_its_largest_page_in_the_schema(schema):
    lists = [
        (path, operation)
        for path, method, operation in _operations(schema)
        if method == "get"
        and "application/json" in operation["responses"]["200"]["content"]  # not the stream
        and "results"
        in _resolved(
            schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
        ).get("properties", {})
    ]

    assert {path for path, _ in lists} >= {
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/timeline/",
        "/api/v1/audit/",
        "/api/v1/suggestions/",
        "/api/v1/reminders/",
        "/api/v1/patients/{patient_id}/reminders/",
    }
    for path, operation in lists:
        parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert "page" not in parameters, path
        assert parameters["cursor"]["schema"]["type"] == "string", path
        size = parameters["page_size"]["schema"]
        assert size["minimum"] == 1 and size["maximum"] in (100, 500), path
        page = _resolved(
            schema, operation["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert {"next", "previous", "results"} <= set(page["required"]), path


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/suggestions/", "kind"),
        ("/api/v1/suggestions/", "status"),
        ("/api/v1/patients/{patient_id}/timeline/", "type"),
        ("/api/v1/reminders/", "status"),
        ("/api/v1/patients/{patient_id}/reminders/", "status"),
    ],
)
def test_filters_of_several_values_are_declared_as_the_repeated_parameter(schema, path, name):
    parameters = schema["paths"][path]["get"]["parameters"]
    parameter = next(p for p in parameters if p["name"] == name and p["in"] == "query")

    assert parameter["schema"]["type"] == "array"
    assert parameter["schema"]["items"]["enum"]
    assert parameter["style"] == "form" and parameter["explode"] is True


def test_the_reminders_list_says_it_is_soonest_first_and_upcoming_by_default(schema):
    operation = schema["paths"]["/api/v1/reminders/"]["get"]

    assert "soonest first" in operation["summary"]
    assert "upcoming" in operation["description"]
    when = next(p for p in operation["parameters"] if p["name"] == "when")
    assert when["schema"]["enum"] == ["all", "past", "upcoming"]


def test_every_request_body_declares_that_it_takes_no_other_fields(schema, agent, register):
    # The server refuses a field it does not know (a misspelling must not be dropped): the
    # schema says so, so a generated client or a validator refuses it before sending.
    bodies = [
        (path, _resolved(schema, content["schema"]))
        for path, method, operation in _operations(schema)
        if "requestBody" in operation
        for content in operation["requestBody"]["content"].values()
    ]
    assert len(bodies) >= 15
    assert all(body["additionalProperties"] is False for _, body in bodies), [
        path for path, body in bodies if body.get("additionalProperties") is not False
    ]
    patient = register()
    refused = agent.post(
        f"/api/v1/patients/{patient}/notes/", {"text": "hi", "txet": "hi"}, format="json"
    )
    assert refused.status_code == 400 and "txet" in refused.json()["errors"]
