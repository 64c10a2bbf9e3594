"""Guessing passwords at the admin's sign-in stops after a few tries: per username, and
per address with a higher limit (desks share one), every failure and lockout logged."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Group, User
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "harbor-lantern-pebble-92"
LOGIN = "/admin/login/?next=/admin/"
FRONT_DESK = "198.51.100.10"
HOME = "203.0.113.44"


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6


@pytest.fixture
def sam() -> User:
    user = User.objects.create_user(username="sup.sam", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="supervisor")[0])
    return user


def sign_in(address: str, username: str, password: str):
    client = Client(REMOTE_ADDR=address)
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in(response) -> bool:
    return bool(response.status_code == 302 and response["Location"] == "/admin/")


def test_a_typo_or_two_does_not_lock_anyone_out(sam):
    sign_in(FRONT_DESK, "sup.sam", "wrong-1")
    sign_in(FRONT_DESK, "sup.sam", "wrong-2")

    assert signed_in(sign_in(FRONT_DESK, "sup.sam", PASSWORD))


def test_a_username_is_locked_after_the_limit_even_from_another_address(sam, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        failures = [sign_in(FRONT_DESK, "sup.sam", f"guess-{n}") for n in range(3)]

    from_home = sign_in(HOME, "sup.sam", PASSWORD)

    assert [r.status_code for r in failures] == [200, 200, 429]
    assert from_home.status_code == 429
    assert b"Too many failed sign-ins" in from_home.content
    assert b"15 minutes" in from_home.content
    assert "_auth_user_id" not in Client().session
    assert any(
        "Locking out" in r.getMessage() and "sup.sam" in r.getMessage() for r in caplog.records
    )
    logged = AccessFailureLog.objects.filter(username="sup.sam").order_by("attempt_time")
    assert [(entry.ip_address, entry.locked_out) for entry in logged] == [
        (FRONT_DESK, False),
        (FRONT_DESK, False),
        (FRONT_DESK, True),
        (HOME, True),  # even the right password is refused, and noted
    ]


def test_an_address_guessing_many_usernames_is_locked_but_others_sign_in(sam):
    for n in range(6):
        sign_in(HOME, f"guess.{n}", "password1")

    assert sign_in(HOME, "sup.sam", PASSWORD).status_code == 429
    assert signed_in(sign_in(FRONT_DESK, "sup.sam", PASSWORD))


def test_the_front_desk_address_survives_one_persons_typos(sam):
    User.objects.create_user(username="frontdesk.kim", password=PASSWORD, is_staff=True)
    for n in range(3):
        sign_in(FRONT_DESK, "frontdesk.kim", f"typo-{n}")

    assert signed_in(sign_in(FRONT_DESK, "sup.sam", PASSWORD))
    assert sign_in(FRONT_DESK, "frontdesk.kim", PASSWORD).status_code == 429


def test_the_lock_lifts_after_the_cool_off(sam, settings):
    for n in range(3):
        sign_in(FRONT_DESK, "sup.sam", f"guess-{n}")
    assert sign_in(FRONT_DESK, "sup.sam", PASSWORD).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME
    )

    assert signed_in(sign_in(FRONT_DESK, "sup.sam", PASSWORD))


PROXY = "10.0.0.5"


def sign_in_through_the_proxy(client_address: str, username: str, password: str):
    client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)
    return client.post(LOGIN, {"username": username, "password": password})


def test_behind_the_proxy_one_guesser_locks_out_only_their_own_address(sam, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(6):
        sign_in_through_the_proxy(HOME, f"guess.{n}", "password1")

    assert sign_in_through_the_proxy(HOME, "sup.sam", PASSWORD).status_code == 429
    assert signed_in(sign_in_through_the_proxy(FRONT_DESK, "sup.sam", PASSWORD))
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {HOME}


def test_a_client_cannot_pick_its_address_by_writing_the_header_itself(sam, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(6):
        # The proxy appends the real address after whatever the client wrote.
        sign_in_through_the_proxy(f"192.0.2.{n}, {HOME}", f"guess.{n}", "password1")

    assert sign_in_through_the_proxy(HOME, "sup.sam", PASSWORD).status_code == 429
