"""Every API answer that carries a patient's data writes an access-log row for them. The
walk covers every route under /api/v1/, so an endpoint added tomorrow is held to it too."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from crm import handlers
from crm.api.base import ApiMixin
from crm.api.views.fallback import EndpointNotFoundApi
from crm.domain import events as ev
from crm.models import AccessLogEntry
from crm.projections import runner
from crm.voice import handlers as voice
from crm.voice.domain import CallStatus
from crm.voice.forms import VoiceRequest

pytestmark = pytest.mark.django_db

PREFIX = "api/v1/"


def api_routes() -> Iterator[tuple[str, Any]]:
    """(route, view class) of every endpoint under /api/v1/."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(PREFIX):
                yield route, getattr(pattern.callback, "view_class", pattern.callback)

    yield from walk(get_resolver().url_patterns, "")


@pytest.fixture
def day_at_the_desk(patient, booked, desk):  # type: ignore[no-untyped-def]
    handlers.consent_record(
        patient_id=patient,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=desk,
    )
    handlers.note_add(patient_id=patient, text="Prefers a call after 5pm.", actor=desk)
    # A call from the patient's number through the phone system, for the desk's calls API.
    call = VoiceRequest(CALL_SID, "+16175550134", "inbound", CallStatus.RINGING, *[None] * 4)
    voice.call_arrived(call, now=timezone.now())
    runner.catch_up_all()
    return patient, booked


def filled(route: str, patient_id: uuid.UUID, appointment_id: uuid.UUID) -> str:
    values = {
        "patient_id": patient_id,
        "appointment_id": appointment_id,
        "version": 1,
        "call_sid": CALL_SID,
    }
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values.get(m[1], "x")), route)


CALL_SID = "CA" + "4" * 32

# What an endpoint cannot answer without.
REQUIRED = {
    "api/v1/patients/lookup": {"phone": "617-555-0134"},
    "api/v1/patients/lookup/": {"phone": "617-555-0134"},
    "api/v1/patients/": {"search": "Testpatient"},
    "api/v1/metrics/": {"from": "2026-01-01", "to": "2026-01-31"},
}


def test_every_endpoint_is_an_audited_api_view():
    unaudited = [
        route
        for route, view in api_routes()
        if view is not EndpointNotFoundApi and not issubclass(view, ApiMixin)
    ]

    assert unaudited == []


def test_every_answer_carrying_a_patient_writes_their_access_row(client_for, day_at_the_desk):
    patient_id, appointment_id = day_at_the_desk
    everyone = client_for("it.everyone", "agent", "front_desk", "clinician", "supervisor")
    marks = (str(patient_id), "Testpatient", "6175550134")
    answered, carrying, unaudited = [], [], []

    for route, _ in api_routes():
        last = _last_row()
        response = everyone.get(filled(route, patient_id, appointment_id), REQUIRED.get(route, {}))
        if response.status_code == 405:
            continue  # a command: CommandApi audits every POST (tests of each command)
        text = _text(response)
        assert response.status_code == 200, (route, text[:300])
        answered.append(route)
        if any(mark in text for mark in marks):
            carrying.append(route)
            if not AccessLogEntry.objects.filter(pk__gt=last, patient_id=patient_id).exists():
                unaudited.append(route)

    assert unaudited == []
    assert {
        "api/v1/patients/lookup",
        "api/v1/patients/",
        "api/v1/patients/<uuid:patient_id>/",
        "api/v1/patients/<uuid:patient_id>/timeline/",
        "api/v1/patients/<uuid:patient_id>/timeline/<int:version>/",
        "api/v1/patients/<uuid:patient_id>/reminders/",
        "api/v1/reminders/",
        "api/v1/audit/",
        "api/v1/desk/calls/",
        "api/v1/desk/calls/<str:call_sid>/",
    } <= set(carrying)
    assert "api/v1/metrics/" in answered


def test_an_answer_refused_to_a_superuser_without_a_role_carries_nothing(
    django_user_model, day_at_the_desk
):
    from rest_framework.test import APIClient

    patient_id, appointment_id = day_at_the_desk
    root = django_user_model.objects.create_superuser("it.admin", "it@example.org", "pw-not-9")
    client = APIClient()
    client.force_authenticate(root)

    statuses = {
        route: client.get(filled(route, patient_id, appointment_id), REQUIRED.get(route, {}))
        for route, _ in api_routes()
    }

    assert {r.status_code for r in statuses.values()} <= {403, 405}
    assert not any(
        mark in r.content.decode() for r in statuses.values() for mark in ("Testpatient", "0134")
    )


def _text(response: Any) -> str:
    """The body; of a stream that stays open (the desk's), what it sends at once."""
    if response.streaming:
        first = next(iter(response.streaming_content))
        # Closed through the test client's own wrapper, which keeps request_finished from
        # closing the test's connection (and its transaction, on PostgreSQL).
        response._iterator.close()
        return bytes(first).decode()
    return str(response.content.decode())


def _last_row() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
