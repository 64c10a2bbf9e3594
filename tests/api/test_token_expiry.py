"""A desktop's key works for API_TOKEN_TTL_HOURS after it was issued, then gets a 401
that says why and what to do."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.api.conftest import problem

pytestmark = pytest.mark.django_db


def _issued(client, *, hours_ago: float) -> None:
    Token.objects.filter(user=client.user).update(
        created=timezone.now() - dt.timedelta(hours=hours_ago)
    )


def test_a_key_past_its_lifetime_gets_401_saying_it_expired(agent, patient, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    _issued(agent, hours_ago=25)

    body = problem(agent.get(f"/api/v1/patients/{patient}/"), 401)

    assert "expired" in body["detail"]
    assert "24 hours" in body["detail"]
    assert "create_api_token --rotate" in body["detail"]


def test_a_key_within_its_lifetime_still_opens_the_screen_pop_in_one_query(
    agent, patient, settings
):
    settings.API_TOKEN_TTL_HOURS = 24
    _issued(agent, hours_ago=23)

    with CaptureQueriesContext(connection) as queries:
        response = agent.get(f"/api/v1/patients/{patient}/")

    assert response.status_code == 200
    token_reads = [q for q in queries if "authtoken_token" in q["sql"]]
    assert len(token_reads) == 1


def test_a_shorter_lifetime_set_later_expires_keys_already_issued(agent, patient, settings):
    _issued(agent, hours_ago=48)
    assert agent.get(f"/api/v1/patients/{patient}/").status_code == 200

    settings.API_TOKEN_TTL_HOURS = 12

    problem(agent.get(f"/api/v1/patients/{patient}/"), 401)


def test_a_rotated_key_works_again_after_the_old_one_expired(agent, patient, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    _issued(agent, hours_ago=30)
    out = io.StringIO()
    call_command(
        "create_api_token", agent.user.username, "--rotate", stdout=out, stderr=io.StringIO()
    )

    agent.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")
    assert agent.get(f"/api/v1/patients/{patient}/").status_code == 200
