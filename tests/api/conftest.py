"""Fixtures for the API: staff in each role with a token, patients made through the
handlers, and helpers to read problem documents and streams."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm import eventstore, handlers
from crm.api.roles import ROLES
from crm.domain import events as ev
from crm.handlers import Actor
from tests.api import schema_check
from tests.roles import role_group

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> None:
    cache.clear()


@pytest.fixture(autouse=True)
def _answers_follow_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer an APIClient gets is checked against the schema of its operation: a
    test fails when the server says something /api/schema/ does not."""
    send = APIClient.request

    def request(self: APIClient, **kwargs: Any) -> Any:
        response = send(self, **kwargs)
        schema_check.check(response)
        return response

    monkeypatch.setattr(APIClient, "request", request)


@pytest.fixture
def make_user(db: None):  # type: ignore[no-untyped-def]
    def make(username: str, *roles: str) -> User:
        user = User.objects.create_user(username=username, password="not-a-real-password-42")
        for role in roles:
            assert role in ROLES
            user.groups.add(role_group(role))
        return user

    return make


@pytest.fixture
def client_for(make_user):  # type: ignore[no-untyped-def]
    """An API client holding a token for a user in the given roles."""

    def make(username: str, *roles: str) -> APIClient:
        user = make_user(username, *roles)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        client.user = user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def agent(client_for):  # type: ignore[no-untyped-def]
    return client_for("agent.avery", "agent")


@pytest.fixture
def front_desk(client_for):  # type: ignore[no-untyped-def]
    return client_for("frontdesk.fran", "front_desk")


@pytest.fixture
def clinician(client_for):  # type: ignore[no-untyped-def]
    return client_for("dr.casey", "clinician")


@pytest.fixture
def supervisor(client_for):  # type: ignore[no-untyped-def]
    return client_for("sup.sam", "supervisor")


@pytest.fixture
def desk() -> Actor:
    return Actor(name="frontdesk.one", channel="admin", user_id=None, role="front_desk")


@pytest.fixture
def patient(register) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """Rowan Testpatient, (617) 555-0134, registered through the real handler."""
    patient_id: uuid.UUID = register()
    return patient_id


@pytest.fixture
def booked(patient: uuid.UUID, desk: Actor) -> uuid.UUID:
    """An annual wellness visit for Rowan next week; returns the appointment id."""
    result = handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.ANNUAL_WELLNESS,
        starts_at=soon(days=7),
        provider="Dr. Lee",
        location="Main St clinic",
        actor=desk,
    )
    appointment_id = result.events[0].event.appointment_id  # type: ignore[attr-defined]
    assert isinstance(appointment_id, uuid.UUID)
    return appointment_id


def soon(*, days: int = 0, hours: int = 0) -> dt.datetime:
    moment = timezone.now() + dt.timedelta(days=days, hours=hours)
    return moment.replace(microsecond=0)


def stream(patient_id: uuid.UUID) -> list[str]:
    return [recorded.event_type for recorded in eventstore.read_stream(patient_id)]


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem document of an error response, after checking what an integrator would."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "errors"} <= set(body)
    assert isinstance(body["errors"], dict)
    return body


def url(patient_id: uuid.UUID, tail: str = "") -> str:
    return f"/api/v1/patients/{patient_id}/{tail}"
