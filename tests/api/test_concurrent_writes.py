"""Two desktops writing at once, on real PostgreSQL connections: If-Match lets exactly
one through (the other gets 412 and records nothing), and two copies of one retried
request record it once and answer the same."""

from __future__ import annotations

import pytest

from tests.api.conftest import soon, stream, url
from tests.threads import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def a_call():
    return {
        "direction": "inbound",
        "started_at": soon(hours=-1).isoformat(),
        "duration_seconds": 60,
        "disposition": "connected",
    }


def test_two_agents_writing_on_the_same_version_one_wins_the_other_gets_412(
    agent, front_desk, patient
):
    clients = [agent, front_desk]

    responses = together(
        2,
        lambda i: clients[i].post(
            url(patient, "calls/"), a_call(), format="json", HTTP_IF_MATCH='"1"'
        ),
    )

    assert sorted(r.status_code for r in responses) == [201, 412]
    assert stream(patient) == ["PatientRegistered", "CallLogged"]


def test_two_copies_of_one_retried_request_record_it_once_and_answer_alike(agent, patient):
    key, call = "desktop-retry-storm", a_call()

    responses = together(
        4,
        lambda i: agent.post(url(patient, "calls/"), call, format="json", HTTP_IDEMPOTENCY_KEY=key),
    )

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert stream(patient) == ["PatientRegistered", "CallLogged"]
