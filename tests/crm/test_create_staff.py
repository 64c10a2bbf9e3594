"""manage.py create_staff: how a clinic makes its staff accounts and the desktop's service
account, and what it refuses."""

from __future__ import annotations

import io
import sys

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from crm.api.roles import ROLES
from crm.management.commands import create_staff

pytestmark = pytest.mark.django_db

GOOD = "harbor-lantern-pebble-92"


@pytest.fixture(autouse=True)
def _roles_installed() -> None:
    for role in ROLES:
        Group.objects.get_or_create(name=role)


@pytest.fixture(autouse=True)
def _run_by_a_script(monkeypatch) -> None:
    """No terminal unless a test says so, even under `pytest -s` in a terminal."""
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)


def run(*args, command="create_staff"):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def signs_in_to_the_admin(username: str, password: str) -> bool:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return response.status_code == 302 and client.get("/admin/").status_code == 200


@pytest.fixture
def at_a_terminal(monkeypatch):
    """Typed answers to the password prompts, in order."""
    answers: list[str] = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(create_staff.getpass, "getpass", lambda prompt="": answers.pop(0))
    return answers


@pytest.mark.parametrize("role", ROLES)
def test_a_script_gets_a_strong_password_printed_once_for_each_role(role):
    password, notes = run("pat.okafor", "--role", role, "--email", "pat@clinic.example")

    user = User.objects.get(username="pat.okafor")
    assert [g.name for g in user.groups.all()] == [role]
    assert user.is_staff and not user.is_superuser
    assert user.email == "pat@clinic.example"
    assert len(password) >= 20 and "\n" not in password
    assert "shown only once" in notes and password not in notes
    assert signs_in_to_the_admin("pat.okafor", password)


def test_generate_password_makes_a_new_one_each_time():
    first, _ = run("a.one", "--role", "agent", "--generate-password")
    second, _ = run("a.two", "--role", "agent", "--generate-password")

    assert first != second


def test_at_a_terminal_it_asks_twice_and_holds_to_the_password_rules(at_a_terminal):
    at_a_terminal.extend([GOOD, "typo", "password", "password", GOOD, GOOD])

    printed, notes = run("frontdesk.kim", "--role", "front_desk")

    assert printed == ""
    assert "differ" in notes and "too common" in notes
    assert signs_in_to_the_admin("frontdesk.kim", GOOD)


def test_three_bad_tries_at_a_terminal_create_nobody(at_a_terminal):
    at_a_terminal.extend(["short", "short"] * 3)

    with pytest.raises(CommandError, match="nothing was created"):
        run("frontdesk.kim", "--role", "front_desk")

    assert not User.objects.filter(username="frontdesk.kim").exists()


def test_a_service_account_gets_an_api_key_but_cannot_sign_in_to_the_admin(register):
    patient = register()

    printed, notes = run("desktop.genesys", "--role", "agent", "--service")
    key, _ = run("desktop.genesys", command="create_api_token")

    user = User.objects.get(username="desktop.genesys")
    assert printed == ""
    assert "create_api_token desktop.genesys" in notes
    assert not user.has_usable_password() and not user.is_staff
    assert not signs_in_to_the_admin("desktop.genesys", "")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get(f"/api/v1/patients/{patient}/").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "nurse"], "Unknown role 'nurse'; choose one of: agent, front_desk"),
        (["--role", "agent", "--email", "not-an-address"], "not an email address"),
        (["--role", "agent", "--service", "--generate-password"], "has no password"),
    ],
)
def test_a_mistyped_command_creates_nobody(args, message):
    with pytest.raises(CommandError, match=message):
        run("pat.okafor", *args)

    assert not User.objects.filter(username="pat.okafor").exists()


def test_an_existing_user_is_left_as_it_was():
    first_password, _ = run("pat.okafor", "--role", "agent")

    with pytest.raises(CommandError, match="already exists"):
        run("pat.okafor", "--role", "supervisor")

    user = User.objects.get(username="pat.okafor")
    assert [g.name for g in user.groups.all()] == ["agent"]
    assert user.check_password(first_password)


def test_a_username_with_spaces_is_refused():
    with pytest.raises(CommandError, match="Username 'pat okafor'"):
        run("pat okafor", "--role", "agent")


def test_a_database_without_the_role_groups_is_pointed_at_migrate():
    Group.objects.filter(name="clinician").delete()

    with pytest.raises(CommandError, match=r"manage\.py migrate"):
        run("dr.casey", "--role", "clinician")
