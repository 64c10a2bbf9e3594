"""Schemathesis over every operation of the API (I10, I11): whatever it sends, valid or
not, the API never answers with a server error.

Requests go straight to the Django WSGI application, authenticated as a user in every
clinic role; path parameters name real records most of the time, so the requests reach
the commands and the reads behind the 404s.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from crm import handlers
from crm.api.roles import ROLES
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner
from engagement.models import Suggestion
from tests.api import hostile

pytestmark = pytest.mark.django_db

DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")
# A fixed seed and no example database: the same requests on every run and machine. Twenty
# valid and invalid requests an operation; the coverage phase (every boundary the schema
# names, some 1,700 requests) is left to a longer run: the commands' fields have their own
# hostile-value test (test_hostile_input.py).
CONFIG = {
    "seed": 20261206,
    "generation": {"max-examples": 20, "deterministic": True, "database": "none"},
    "phases": {"coverage": {"enabled": False}},
}


# The desk's stream stays open by design: a request that succeeds would never end. Its
# refusals (400, 401, 403, 406) are tested in tests/desk/test_stream.py.
schema = schemathesis.openapi.from_dict(
    hostile.schema(), config=schemathesis.Config.from_dict(CONFIG)
).exclude(path="/api/v1/desk/stream")
schema.app = get_wsgi_application()


@pytest.fixture
def one_connection() -> Iterator[None]:
    """Keep the test's database connection open between requests, as Django's test client
    does: the WSGI handler closes it at the end of each request, and with it the test's
    transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def records(make_user, settings, one_connection) -> dict[str, Any]:
    """A patient with a visit and an open suggestion, and a token that may do anything."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis's Host
    user = make_user("allroles.alex", *ROLES)
    patient = handlers.patient_register(
        first_name="Rowan",
        last_name="Testpatient",
        date_of_birth=dt.date(1984, 5, 17),
        phone="(617) 555-0134",
        actor=DESK,
    ).patient_id
    visit = uuid.uuid4()
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_id=visit,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=timezone.now() + dt.timedelta(days=3),
        provider="Dr. Lee",
        location="Main St clinic",
        actor=DESK,
    )
    runner.catch_up_all()
    suggestion = Suggestion.objects.filter(patient_id=patient).values_list(
        "suggestion_id", flat=True
    )[0]
    return {
        "token": Token.objects.create(user=user).key,
        "patient_id": str(patient),
        "appointment_id": str(visit),
        "suggestion_id": suggestion,
    }


@schema.parametrize()
@settings(
    deadline=None,
    # `records` holds for every request of one operation: what one changes, the next sees.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_makes_the_api_answer_with_a_server_error(case, records):
    for name, value in list((case.path_parameters or {}).items()):
        # Most requests name the real records; the rest keep what was generated (a random
        # id, or something that is not an id at all) to reach the 404s and the 400s.
        if name in records and _mostly(value):
            case.path_parameters[name] = records[name]
    cache.clear()  # the per-user throttle would count the whole run
    case.call_and_validate(
        headers={"Authorization": f"Token {records['token']}"}, checks=[not_a_server_error]
    )


def _mostly(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return len(str(value)) % 3 == 0  # a suggestion id is any text
    return True
