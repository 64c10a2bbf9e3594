"""Who gets in: nobody without credentials, anywhere under /api/; staff by token or
session; an account without a clinic role is turned away."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.api.conftest import problem

pytestmark = pytest.mark.django_db

_CONVERTERS = {
    "uuid": lambda: str(uuid.uuid4()),
    "int": lambda: "1",
    "str": lambda: "something",
    "slug": lambda: "something",
    "path": lambda: "some/thing",
    "suggestion_id": lambda: "callback.something",
}


def _api_paths() -> list[str]:
    """A concrete path for every URL pattern under /api/, however deeply included."""
    paths: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + _concrete(str(pattern.pattern))
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/"):
                paths.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return paths


def _concrete(route: str) -> str:
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _CONVERTERS[m.group(1) or "str"](), route)
    return route.removeprefix("^").removesuffix("$").replace("\\", "")


API_PATHS = _api_paths()


def test_the_walk_covers_every_endpoint_of_the_contract():
    shapes = {re.sub(r"[0-9a-f-]{36}", "{id}", p) for p in API_PATHS}
    assert {
        "/api/v1/patients/lookup",
        "/api/v1/patients/",
        "/api/v1/patients/{id}/",
        "/api/v1/patients/{id}/timeline/",
        "/api/v1/patients/{id}/calls/",
        "/api/v1/patients/{id}/appointments/{id}/no-show/",
        "/api/v1/audit/",
        "/api/schema/",
        "/api/docs/",
        "/api/",  # the catch-all
    } <= shapes
    assert len(API_PATHS) >= 20


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_anonymous_request_anywhere_under_api_gets_401(path, method):
    response = getattr(APIClient(), method)(path, {}, format="json")

    body = problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert "credentials" in body["detail"].lower()


def test_a_made_up_token_gets_401_naming_the_problem():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    body = problem(client.get("/api/v1/patients/lookup", {"phone": "617-555-0134"}), 401)
    assert body["detail"] == "Invalid token."


def test_a_staff_member_without_a_clinic_role_is_turned_away_with_403(client_for, patient):
    stranger = client_for("it.ops")

    body = problem(stranger.get(f"/api/v1/patients/{patient}/"), 403)
    assert "no clinic role" in body["detail"]


def test_a_superuser_without_a_role_sees_no_patient_data(patient, make_user):
    admin = make_user("root.admin")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    client = APIClient()
    client.force_login(admin)

    problem(client.get(f"/api/v1/patients/{patient}/"), 403)


def test_a_front_desk_browser_session_reads_the_api(make_user, patient):
    user = make_user("frontdesk.kim", "front_desk")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get(f"/api/v1/patients/{patient}/").status_code == 200


def test_a_browser_session_must_send_the_csrf_token_to_write(make_user, patient):
    user = make_user("frontdesk.kim", "front_desk")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    body = problem(
        client.post(f"/api/v1/patients/{patient}/notes/", {"text": "hi"}, format="json"), 403
    )
    assert "CSRF" in body["detail"]


def test_an_unknown_path_is_a_404_problem_that_points_at_the_docs(agent):
    body = problem(agent.get("/api/v1/patient/"), 404)
    assert "/api/docs/" in body["detail"]


def test_a_missing_trailing_slash_is_pointed_out(agent, patient):
    body = problem(agent.get(f"/api/v1/patients/{patient}/timeline"), 404)
    assert f"/api/v1/patients/{patient}/timeline/" in body["detail"]


def test_the_lookup_answers_with_or_without_a_trailing_slash(agent, patient):
    assert agent.get("/api/v1/patients/lookup", {"phone": "6175550134"}).status_code == 200
    assert agent.get("/api/v1/patients/lookup/", {"phone": "6175550134"}).status_code == 200
