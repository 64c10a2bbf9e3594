"""crm.api.rendering: the screen pop rendered without DRF's per-response work is, field for
field, what LookupSerializer (the schema's contract) would have produced."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import pytest
from rest_framework import serializers

from crm import handlers
from crm.api import lookup as patient_views
from crm.api.fields import Choice, Day, Moment
from crm.api.rendering import compile_output
from crm.api.serializers import LookupSerializer
from crm.domain import events as ev
from crm.projections import runner

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/patients/lookup"


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every screen-pop body the view renders, as the view handed it over."""
    bodies: list[dict[str, Any]] = []
    render = patient_views.render_lookup()

    def keep(body: dict[str, Any]) -> Any:
        bodies.append(body)
        return render(body)

    monkeypatch.setattr(patient_views, "render_lookup", lambda: keep)
    return bodies


def test_a_full_screen_pop_is_rendered_exactly_as_the_serializer_would(
    agent, patient, booked, desk, rendered, now
):
    handlers.consent_record(
        patient_id=patient,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=desk,
    )
    handlers.note_add(patient_id=patient, text="Prefers mornings", actor=desk, restricted=True)
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.MODERATE,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.REVIEWED,
        actor=desk,
    )
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=now,
        duration_seconds=300,
        disposition=ev.CallDisposition.CONNECTED,
        actor=desk,
    )

    runner.catch_up_all()  # the open suggestions section has something to show

    response = agent.get(LOOKUP, {"phone": "617.555.0134"})

    assert response.status_code == 200
    (body,) = rendered
    assert body["patient"]["crisis_flag"] is True
    assert body["open_suggestions"]
    assert response.json() == dict(LookupSerializer(body).data)


def test_a_household_is_rendered_exactly_as_the_serializer_would(agent, register, rendered):
    register(first_name="Morgan")
    register(first_name="Riley", date_of_birth=dt.date(2011, 2, 3))

    response = agent.get(LOOKUP, {"phone": "+1 617 555 0134"})

    (body,) = rendered
    assert len(response.json()["candidates"]) == 2
    assert response.json() == dict(LookupSerializer(body).data)


class Colour(enum.StrEnum):
    TEAL = "teal"


class Odd(serializers.Serializer[Any]):
    """Every kind of field the compiler knows, and values of the unusual shapes."""

    moment = Moment()
    moment_text = Moment()
    moment_elsewhere = Moment()
    day = Day()
    day_text = Day()
    choice = Choice(Colour)
    plain_choice = serializers.ChoiceField(choices=["explicit", "phone"])
    flag = serializers.BooleanField()
    flag_text = serializers.BooleanField()
    number = serializers.IntegerField()
    number_text = serializers.IntegerField()
    text = serializers.CharField()
    text_number = serializers.CharField()
    ident = serializers.UUIDField()
    mapping = serializers.DictField(child=Moment())
    anything = serializers.DictField()
    nothing = Moment(allow_null=True)


def test_values_of_unusual_shapes_are_converted_as_drf_converts_them():
    value = {
        "moment": dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.UTC),
        "moment_text": "2026-11-03T09:30:00-05:00",
        "moment_elsewhere": dt.datetime(
            2026, 11, 3, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))
        ),
        "day": dt.date(2026, 11, 3),
        "day_text": "2026-11-03",
        "choice": Colour.TEAL,
        "plain_choice": "phone",
        "flag": True,
        "flag_text": "yes",
        "number": 7,
        "number_text": "8",
        "text": "hello",
        "text_number": 12,
        "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "mapping": {"annual_wellness": "2026-01-02T03:04:05+00:00", "test": None},
        "anything": {"nested": [1, 2]},
        "nothing": None,
    }

    assert compile_output(Odd())(value) == dict(Odd(value).data)
