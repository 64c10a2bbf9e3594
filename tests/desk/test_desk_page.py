"""/desk/ lets in whom the staff sign-in lets in (second factor included), sends everyone else to
sign in and back, and is a page the Content Security Policy runs: no inline script or style."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.roles import role_group

pytestmark = pytest.mark.django_db

PASSWORD = "desk-page-test-pass-1234"


def staff(username: str, *roles: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    for role in roles:
        user.groups.add(role_group(role))
    return user


def signed_in(user: User) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/?next=/desk/",
        {"username": user.username, "password": PASSWORD, "next": "/desk/"},
    )
    assert response.status_code == 302, response.content
    return client


def test_a_signed_out_visitor_is_sent_to_sign_in_and_comes_back_to_the_desk() -> None:
    response = Client().get("/desk/?phone=6175550134")

    assert response.status_code == 302
    # Only the page's path goes along: nothing typed into the address bar travels on.
    assert response["Location"] == "/admin/login/?next=/desk/"


def test_the_agent_signs_in_and_lands_on_the_desk() -> None:
    agent = staff("agent.rowan", "agent")
    client = Client()

    response = client.post(
        "/admin/login/?next=/desk/",
        {"username": agent.username, "password": PASSWORD, "next": "/desk/"},
    )
    page = client.get(response["Location"])

    assert response["Location"] == "/desk/"
    assert page.status_code == 200
    assert b"Signed in as <strong>agent.rowan</strong>" in page.content
    assert page["Cache-Control"].startswith("max-age=0")


def test_the_page_runs_under_the_content_security_policy() -> None:
    page = signed_in(staff("agent.rowan", "agent")).get("/desk/")
    html = page.content.decode()

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script src="/static/desk/desk.js" defer>']
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", html) is None  # no inline code
    assert " style=" not in html and "<style" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert re.search(r'data-csrf="[^"]{32,}"', html)


def test_the_page_offers_the_visit_types_and_the_crisis_line_of_the_clinic(settings: Any) -> None:
    settings.CRISIS_LINE = "988"
    html = signed_in(staff("agent.rowan", "agent")).get("/desk/").content.decode()

    assert '<option value="annual_wellness">Annual wellness visit</option>' in html
    assert '<option value="telehealth">Telehealth</option>' in html
    assert 'data-crisis-line="988"' in html


def test_staff_without_a_clinic_role_are_told_to_ask_for_one() -> None:
    page = signed_in(staff("it.kai")).get("/desk/")

    assert page.status_code == 403
    assert b"Your account has no clinic role" in page.content


def test_a_session_owing_its_second_factor_signs_in_again() -> None:
    agent = staff("agent.rowan", "agent")
    client = signed_in(agent)
    TOTPDevice.objects.create(user=agent, name="Authenticator app", confirmed=True)

    response = client.get("/desk/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/desk/"


def test_a_supervisor_who_must_add_an_authenticator_is_sent_to_add_one(settings: Any) -> None:
    settings.STAFF_2FA_REQUIRED = True
    client = Client()
    client.force_login(staff("sup.sam", "supervisor"))

    response = client.get("/desk/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/second-factor/?next=%2Fdesk%2F"


def test_the_page_takes_no_form_posts() -> None:
    client = signed_in(staff("agent.rowan", "agent"))

    assert client.post("/desk/", {"phone": "6175550134"}).status_code == 405
