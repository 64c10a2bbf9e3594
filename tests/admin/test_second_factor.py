"""The authenticator code at sign-in: optional for staff, required of supervisors when
STAFF_2FA_REQUIRED=1, who are sent to set one up before the admin opens for them."""

from __future__ import annotations

import datetime as dt
import re
import time
from base64 import b32decode

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "harbor-lantern-pebble-92"
LOGIN = "/admin/login/?next=/admin/"
SETUP = reverse("admin:second_factor")
DASHBOARD = reverse("admin:supervisor_dashboard")


def make_staff(username: str, role: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def code(key: bytes, *, steps_ahead: int = 0) -> str:
    """What the phone's app shows now (or in a later 30-second step)."""
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def sign_in(client: Client, username: str, otp_token: str = ""):
    return client.post(LOGIN, {"username": username, "password": PASSWORD, "otp_token": otp_token})


def set_up_app(client: Client) -> bytes:
    """Read the key off the setup page as a person typing it into the app would, and
    confirm it with the first code; returns the key the app now holds."""
    page = client.get(SETUP).content.decode()
    found = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert found, "the setup page shows the key to type in"
    secret = found.group(1).replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    confirmed = client.post(SETUP, {"code": code(key), "next": "/admin/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/admin/"
    return key


def a_minute_later(user: User) -> None:
    """django-otp holds back the next try for a moment after a wrong code."""
    TOTPDevice.objects.filter(user=user).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(minutes=1)
    )


@pytest.fixture
def required(settings) -> None:
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def sam() -> User:
    return make_staff("sup.sam", "supervisor")


def test_a_supervisor_without_an_app_is_sent_to_set_one_up_and_reaches_nothing_else(required, sam):
    client = Client()
    signed = sign_in(client, "sup.sam")

    assert signed.status_code == 302 and signed["Location"].startswith(SETUP)
    for page in ("/admin/", DASHBOARD, reverse("admin:crm_accesslogentry_changelist")):
        response = client.get(page)
        assert response.status_code == 302, page
        assert client.get(response["Location"], follow=True).redirect_chain[-1][0].startswith(SETUP)
    setup = client.get(SETUP).content.decode()
    assert "<svg" in setup and "otpauth://totp/" in setup and 'id="totp-secret"' in setup
    assert "Supervisors sign in with a second factor" in setup


def test_the_first_right_code_opens_the_admin(required, sam):
    client = Client()
    sign_in(client, "sup.sam")

    set_up_app(client)

    assert client.get("/admin/").status_code == 200
    assert client.get(DASHBOARD).status_code == 200
    assert TOTPDevice.objects.get(user=sam).confirmed


def test_a_wrong_code_at_setup_turns_nothing_on(required, sam):
    client = Client()
    sign_in(client, "sup.sam")
    client.get(SETUP)

    answer = client.post(SETUP, {"code": "000000"})

    assert answer.status_code == 200 and b"not right" in answer.content
    assert not TOTPDevice.objects.filter(user=sam, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_with_an_app_the_sign_in_asks_for_its_code(required, sam):
    first = Client()
    sign_in(first, "sup.sam")
    key = set_up_app(first)

    client = Client(REMOTE_ADDR="198.51.100.10")
    without = sign_in(client, "sup.sam")
    wrong = sign_in(client, "sup.sam", "123456")
    a_minute_later(sam)
    right = sign_in(client, "sup.sam", code(key, steps_ahead=1))

    assert without.status_code == 200 and b"Enter the 6-digit code" in without.content
    assert wrong.status_code == 200 and b"not right" in wrong.content
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get(DASHBOARD).status_code == 200
    # The wrong code counts toward the lockout like a wrong password.
    assert AccessFailureLog.objects.filter(username="sup.sam", ip_address="198.51.100.10").exists()


def test_a_code_cannot_be_used_twice(required, sam):
    first = Client()
    sign_in(first, "sup.sam")
    key = set_up_app(first)
    once = code(key, steps_ahead=1)
    assert sign_in(Client(), "sup.sam", once).status_code == 302

    assert sign_in(Client(), "sup.sam", once).status_code == 200


def test_other_roles_and_supervisors_without_the_setting_sign_in_with_a_password(settings, sam):
    desk = make_staff("frontdesk.kim", "front_desk")
    settings.STAFF_2FA_REQUIRED = True
    client = Client()
    assert sign_in(client, desk.username)["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    settings.STAFF_2FA_REQUIRED = False
    client = Client()
    assert sign_in(client, "sup.sam")["Location"] == "/admin/"
    assert client.get(DASHBOARD).status_code == 200


def test_any_staff_member_may_turn_it_on_and_is_asked_from_then_on():
    make_staff("frontdesk.kim", "front_desk")
    client = Client()
    sign_in(client, "frontdesk.kim")
    assert b"Two-factor sign-in" in client.get("/admin/").content

    key = set_up_app(client)

    assert client.get("/admin/").status_code == 200
    assert sign_in(Client(), "frontdesk.kim").status_code == 200
    assert sign_in(Client(), "frontdesk.kim", code(key, steps_ahead=1)).status_code == 302


def test_a_session_from_before_the_app_was_added_must_sign_in_again(sam):
    client = Client()
    sign_in(client, "sup.sam")
    assert client.get("/admin/").status_code == 200

    TOTPDevice.objects.create(user=sam, name="Authenticator app", confirmed=True)

    assert client.get("/admin/").status_code == 302
    assert client.get(SETUP)["Location"].startswith(reverse("admin:login"))


def test_a_supervisor_sent_to_setup_can_sign_out(required, sam):
    client = Client()
    sign_in(client, "sup.sam")

    client.post(SETUP, {"sign_out": "1"})

    assert "_auth_user_id" not in client.session
    assert client.get(SETUP)["Location"].startswith(reverse("admin:login"))


def test_it_removes_a_lost_phones_app_without_ever_seeing_its_secret(required, sam):
    first = Client()
    sign_in(first, "sup.sam")
    set_up_app(first)
    device = TOTPDevice.objects.get(user=sam)
    root = Client()
    root.force_login(User.objects.create_superuser("it.admin", password=PASSWORD))

    listing = root.get(reverse("admin:otp_totp_totpdevice_changelist"))
    detail = root.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    removed = root.post(
        reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}
    )

    assert listing.status_code == 200 and b"sup.sam" in listing.content
    assert device.key.encode() not in listing.content + detail.content
    assert removed.status_code == 302
    assert sign_in(Client(), "sup.sam")["Location"].startswith(SETUP)


def test_the_api_does_not_take_a_session_that_still_owes_the_code(required, sam):
    client = Client()
    sign_in(client, "sup.sam")

    before = client.get("/api/v1/audit/")
    set_up_app(client)
    after = client.get("/api/v1/audit/")

    assert before.status_code == 401
    assert after.status_code == 200
