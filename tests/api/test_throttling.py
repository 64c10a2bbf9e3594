"""Per-user throttling: one busy desktop cannot starve the others."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from crm.api.throttling import PerUserThrottle
from tests.api.conftest import problem, url

pytestmark = pytest.mark.django_db

THREE_A_MINUTE = {
    **settings.REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"user": "3/minute"},
}


@override_settings(REST_FRAMEWORK=THREE_A_MINUTE)
def test_a_user_over_the_rate_gets_429_with_retry_after_and_others_are_unaffected(
    agent, clinician, patient
):
    for _ in range(3):
        assert agent.get(url(patient)).status_code == 200

    response = agent.get(url(patient))

    problem(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60
    assert clinician.get(url(patient)).status_code == 200


@override_settings(REST_FRAMEWORK=THREE_A_MINUTE)
def test_the_count_starts_again_with_the_next_minute(agent, patient, monkeypatch):
    clock = {"now": 1_800_000_000.0}  # the start of a minute
    monkeypatch.setattr(PerUserThrottle, "timer", staticmethod(lambda: clock["now"]))
    for _ in range(3):
        assert agent.get(url(patient)).status_code == 200
    clock["now"] += 45

    refused = agent.get(url(patient))
    clock["now"] += 15

    assert refused.status_code == 429
    assert refused["Retry-After"] == "15"
    assert agent.get(url(patient)).status_code == 200
