"""manage.py create_api_token <username>: how a desktop integration gets its key."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def issue(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_printed_key_opens_the_api(make_user, patient):
    make_user("desktop.genesys", "agent")

    key, _ = issue("desktop.genesys")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/v1/patients/{patient}/").status_code == 200


def test_a_second_token_needs_rotate_and_the_old_key_stops_working(make_user, patient):
    make_user("desktop.genesys", "agent")
    old, _ = issue("desktop.genesys")

    with pytest.raises(CommandError, match="--rotate"):
        issue("desktop.genesys")
    new, _ = issue("desktop.genesys", "--rotate")

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get(f"/api/v1/patients/{patient}/").status_code == 401
    assert new != old


def test_an_unknown_or_inactive_user_gets_no_token(make_user):
    with pytest.raises(CommandError, match="No user named"):
        issue("nobody")
    user = make_user("left.the.clinic", "agent")
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="inactive"):
        issue("left.the.clinic")


def test_a_user_without_a_role_is_warned_that_the_api_will_refuse_them(make_user):
    make_user("it.ops")

    key, warning = issue("it.ops")

    assert len(key) == 40
    assert "no clinic role" in warning


def test_it_says_until_when_the_key_works(make_user, settings):
    settings.API_TOKEN_TTL_HOURS = 48
    make_user("desktop.genesys", "agent")

    key, notes = issue("desktop.genesys")

    created = Token.objects.get(key=key).created
    until = timezone.localtime(created + dt.timedelta(hours=48))
    assert f"works until {until:%Y-%m-%d %H:%M}" in notes
    assert key not in notes
