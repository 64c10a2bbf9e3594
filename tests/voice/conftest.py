"""Voice tests: Twilio's account and token set, the clinic's patients made through the handlers,
and the calls logged read back from the patients' streams."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.handlers import Actor
from tests.voice.twilio_voice import ACCOUNT_SID, AUTH_TOKEN, Twilio


@pytest.fixture(autouse=True)
def _twilio_account(settings):  # type: ignore[no-untyped-def]
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.TWILIO_VOICE_QUEUE = "clinic"
    settings.TWILIO_VOICE_CRISIS_QUEUE = "clinic-priority"
    settings.TWILIO_VOICE_WORKFLOW_SID = ""
    settings.TWILIO_VOICE_WAIT_URL = ""


@pytest.fixture
def twilio(db: None) -> Twilio:
    return Twilio(Client())


def logged_calls(patient_id: uuid.UUID) -> list[ev.CallLogged]:
    return [
        recorded.event
        for recorded in eventstore.read_stream(patient_id)
        if isinstance(recorded.event, ev.CallLogged)
    ]


def in_crisis(patient_id: uuid.UUID, actor: Actor) -> None:
    """A crisis contact that flags the patient: their calls go first."""
    handlers.crisis_contact_record(
        patient_id=patient_id,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.REVIEWED,
        actor=actor,
    )


def wrap_ups(patient_id: uuid.UUID) -> list[ev.CallWrappedUp]:
    return [
        recorded.event
        for recorded in eventstore.read_stream(patient_id)
        if isinstance(recorded.event, ev.CallWrappedUp)
    ]


# The API's fixtures: staff with tokens, every answer checked against the OpenAPI schema.
from tests.api.conftest import (  # noqa: E402, F401
    _answers_follow_the_schema,
    _fresh_throttle_counts,
    agent,
    client_for,
    make_user,
    supervisor,
)
