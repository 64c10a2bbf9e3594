"""Text no database can store, sent to any operation: a lone surrogate (a "\\ud800" escape)
or NUL in a value or in a field name, or NUL in a path. Each is a 4xx problem document
naming what to fix (never a 500 while echoing it back), and nothing is written."""

from __future__ import annotations

import json

import pytest

from crm.models import Event
from tests.api.conftest import problem, url

pytestmark = pytest.mark.django_db

SURROGATE = "\\ud800"  # as a JSON body carries it: an escape, valid UTF-8 on the wire
NUL = "\\u0000"


def events() -> int:
    return Event.objects.count()


def post_raw(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


@pytest.fixture
def operations(patient, booked):
    """(path, a good body's other fields, the field to spoil) for one operation each."""
    appointment = url(patient, f"appointments/{booked}/")
    return {
        "confirm": (appointment + "confirm/", {}, "via"),
        "cancel": (appointment + "cancel/", {}, "cancelled_by"),
        "consent": (url(patient, "consents/"), {"granted": True, "source": "verbal"}, "channel"),
        "call": (
            url(patient, "calls/"),
            {
                "started_at": "2026-11-02T14:30:00Z",
                "duration_seconds": 60,
                "disposition": "connected",
            },
            "direction",
        ),
        "crisis": (
            url(patient, "crisis-contacts/"),
            {"handoff": "clinician", "safety_plan": "created"},
            "risk_level",
        ),
        "booking": (
            url(patient, "appointments/"),
            {"starts_at": "2027-01-05T15:00:00Z", "provider": "Dr. Lee", "location": "Main"},
            "appointment_type",
        ),
        "note": (url(patient, "notes/"), {}, "text"),
        "contact": (url(patient, "contact-details/"), {"phone": None, "timezone": ""}, "email"),
        "register": (
            "/api/v1/patients/",
            {"last_name": "Testpatient", "date_of_birth": "1990-04-01"},
            "first_name",
        ),
        "dismiss": ("/api/v1/suggestions/callback.nothing-here/dismiss/", {}, "reason"),
    }


def _body(fields: dict[str, object], name: str, raw_value: str) -> str:
    """A JSON object with `fields` and `name` set to `raw_value`, an escape kept as written."""
    document = json.dumps({**fields, name: "PLACEHOLDER"})
    return document.replace('"PLACEHOLDER"', f'"{raw_value}"')


@pytest.mark.parametrize(
    "operation",
    [
        "confirm",
        "cancel",
        "consent",
        "call",
        "crisis",
        "booking",
        "note",
        "contact",
        "register",
        "dismiss",
    ],
)
@pytest.mark.parametrize("spoiler", [SURROGATE, "sms" + NUL], ids=["surrogate", "nul"])
def test_unstorable_text_in_a_value_is_a_400_naming_the_field(
    front_desk, operations, operation, spoiler
):
    path, fields, field = operations[operation]
    before = events()

    body = problem(post_raw(front_desk, path, _body(fields, field, spoiler)), 400)

    assert body["errors"] == {field: ["must not hold NUL or unpaired surrogate characters."]}
    assert events() == before


@pytest.mark.parametrize("operation", ["confirm", "call", "note", "register", "dismiss"])
def test_an_unknown_field_named_with_a_surrogate_is_a_400_on_the_body(
    front_desk, operations, operation
):
    path, fields, _ = operations[operation]
    before = events()
    document = json.dumps(fields)[:-1] + (", " if fields else "") + f'"{SURROGATE}": "sms"}}'

    body = problem(post_raw(front_desk, path, document), 400)

    assert list(body["errors"]) == ["body"]
    assert "field name" in body["errors"]["body"][0]
    assert events() == before


def test_a_spoiled_name_inside_an_object_names_the_field_holding_it(front_desk, patient):
    body = problem(post_raw(front_desk, url(patient, "notes/"), f'{{"text": {{"{NUL}": 1}}}}'), 400)

    assert list(body["errors"]) == ["text"]


@pytest.mark.parametrize("tail", ["%00/claim/", "callback.%00/snooze/", "x" * 201 + "/claim/"])
def test_a_suggestion_id_no_suggestion_could_have_is_a_404(agent, tail):
    before = events()

    problem(agent.post(f"/api/v1/suggestions/{tail}", {}, format="json"), 404)

    assert events() == before
