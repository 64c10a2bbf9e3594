"""Supervisors see who holds an API key and revoke one; nobody sees a whole key, and every
revocation says who did it."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIST = reverse("admin:authtoken_tokenproxy_changelist")


@pytest.fixture
def desktop_key() -> Token:
    user = User.objects.create_user(username="desktop.genesys")
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name="agent")[0])
    return Token.objects.create(user=user)


def _revoke_url(token: Token) -> str:
    return reverse("admin:authtoken_tokenproxy_revoke", args=[token.user_id])


def test_a_supervisor_sees_who_holds_a_key_but_never_the_whole_key(supervisor, desktop_key):
    page = supervisor.get(LIST)

    html = page.content.decode()
    assert page.status_code == 200
    assert "desktop.genesys" in html and "agent" in html
    assert desktop_key.key[:8] + "…" in html
    assert desktop_key.key not in html
    assert "active" in html


def test_an_old_key_is_shown_as_expired(supervisor, desktop_key, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    Token.objects.filter(pk=desktop_key.pk).update(created=timezone.now() - dt.timedelta(hours=30))

    html = supervisor.get(LIST).content.decode()

    assert "expired" in html


def test_other_roles_and_a_roleless_superuser_cannot_see_or_revoke_keys(staff, desktop_key):
    for client in (
        staff("frontdesk", "front_desk"),
        staff("dr.ashdale", "clinician"),
        staff("agent.avery", "agent"),
        staff("root", superuser=True),
    ):
        assert client.get(LIST).status_code == 403
        assert client.post(_revoke_url(desktop_key)).status_code == 403
    assert Token.objects.filter(pk=desktop_key.pk).exists()


def test_revoking_stops_the_key_at_once_and_records_who_did_it(supervisor, desktop_key, caplog):
    confirm = supervisor.get(_revoke_url(desktop_key))
    assert confirm.status_code == 200
    assert b"desktop.genesys" in confirm.content
    assert desktop_key.key.encode() not in confirm.content

    with caplog.at_level(logging.WARNING, logger="crm.security"):
        done = supervisor.post(_revoke_url(desktop_key), follow=True)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {desktop_key.key}")
    assert api.get("/api/v1/patients/").status_code == 401
    assert not Token.objects.filter(user=desktop_key.user).exists()
    html = done.content.decode()
    assert "revoked" in html
    assert "Recently revoked" in html
    revoked_row = html.split('id="revocations"')[1]
    assert "desktop.genesys" in revoked_row and "supervisor" in revoked_row
    assert desktop_key.key not in html
    assert any(
        "desktop.genesys" in r.getMessage() and "revoked by supervisor" in r.getMessage()
        for r in caplog.records
    )


def test_revoking_a_key_already_gone_says_so(supervisor, desktop_key):
    supervisor.post(_revoke_url(desktop_key))

    assert supervisor.post(_revoke_url(desktop_key)).status_code == 404
