"""GET /api/v1/desk/stream through the test client: who may open it, what it sends first,
the replay after Last-Event-ID, and the audit of what it delivered."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from crm.api.audit import AccessNote
from crm.desk import feed
from crm.models import AccessLogEntry
from tests.api.conftest import problem
from tests.desk.conftest import STREAM, Reader

pytestmark = pytest.mark.django_db


def open_stream(client: APIClient, **headers: Any) -> Reader:
    response: Any = client.get(STREAM, HTTP_ACCEPT="text/event-stream", **headers)
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Accel-Buffering"] == "no"
    return Reader(iter(response.streaming_content))


def test_without_credentials_the_stream_answers_401_as_a_problem():
    response = APIClient().get(STREAM, HTTP_ACCEPT="text/event-stream")

    problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"


def test_an_account_without_a_clinic_role_gets_403_and_no_stream(make_user):
    client = APIClient()
    client.force_authenticate(make_user("no.role"))
    root = User.objects.create_superuser("root.only", "root@example.org", "pw-not-a-real-9")
    superuser = APIClient()
    superuser.force_authenticate(root)

    assert "clinic role" in problem(client.get(STREAM), 403)["detail"]
    problem(superuser.get(STREAM), 403)


def test_a_last_event_id_that_is_not_an_id_is_refused_with_400(agent):
    body = problem(agent.get(STREAM, HTTP_LAST_EVENT_ID="abc"), 400)
    assert "Last-Event-ID" in body["errors"]
    assert "last_event_id" in problem(agent.get(STREAM, {"last_event_id": "-1"}), 400)["errors"]
    assert "since" in problem(agent.get(STREAM, {"since": "1"}), 400)["errors"]


def test_asking_for_json_instead_of_an_event_stream_is_406(agent):
    problem(agent.get(STREAM, HTTP_ACCEPT="application/json"), 406)


def test_under_gunicorn_the_stream_is_refused_and_holds_no_worker(agent):
    """A stream reaching gunicorn (the proxy rule missing) would hold one of its workers for
    as long as the desk is open: a few desks would stop the whole API. It is refused."""
    response = agent.get(STREAM, HTTP_ACCEPT="text/event-stream", SERVER_SOFTWARE="gunicorn/23.0.0")

    body = problem(response, 503)
    assert "uvicorn" in body["detail"] and not getattr(response, "streaming", False)
    assert not AccessLogEntry.objects.filter(outcome="stream_opened").exists()


def test_the_stream_opens_with_its_retry_delay_and_the_opening_is_audited(agent):
    reader = open_stream(agent)

    first = reader.next_messages()[0]

    assert first.retry == 2000
    opened = AccessLogEntry.objects.get(user_id=agent.user.pk)
    assert (opened.outcome, opened.patient_id, opened.action) == ("stream_opened", None, "read")
    assert opened.endpoint == "GET /api/v1/desk/stream"


def test_a_signed_in_session_opens_the_stream_too(make_user):
    client = APIClient()
    client.force_login(make_user("desk.dana", "front_desk"))

    assert open_stream(client).next_messages()[0].retry == 2000


def test_reconnecting_with_last_event_id_replays_what_was_missed_in_order(agent):
    first = feed.publish("queue_changed", {"created": ["a"], "claimed": [], "closed": []})
    second = feed.publish("call_ended", {"call_sid": "CA01", "disposition": "missed"})
    third = feed.publish("queue_changed", {"created": [], "claimed": ["a"], "closed": []})

    reader = open_stream(agent, HTTP_LAST_EVENT_ID=str(first))
    replayed = reader.events(2)

    assert [(m.id, m.event) for m in replayed] == [(second, "call_ended"), (third, "queue_changed")]
    assert replayed[0].json() == {"call_sid": "CA01", "disposition": "missed"}
    query = open_stream(agent, QUERY_STRING=f"last_event_id={second}")
    assert [m.id for m in query.events(1)] == [third]


def test_an_event_for_one_agent_is_not_replayed_to_another(agent, front_desk):
    mine = feed.publish("call_ended", {"call_sid": "CA02"}, user_id=agent.user.pk)
    everyone = feed.publish("queue_changed", {"created": ["b"], "claimed": [], "closed": []})

    assert [m.id for m in open_stream(agent, HTTP_LAST_EVENT_ID="0").events(2)] == [
        mine,
        everyone,
    ]
    assert [m.id for m in open_stream(front_desk, HTTP_LAST_EVENT_ID="0").events(1)] == [everyone]


def test_each_recipient_gets_the_pop_rendered_for_them_and_it_is_audited_for_them(
    agent, clinician, monkeypatch
):
    monkeypatch.setattr(feed, "_RENDERERS", {})
    patient = uuid.uuid4()

    @feed.renderer("screen_pop")
    def pop(data, user):  # type: ignore[no-untyped-def]
        return {**data, "for": user.username}, [AccessNote(patient, "screen_pop")]

    event_id = feed.publish("screen_pop", {"call_sid": "CA03"}, patient_ids=[patient])

    for client in (agent, clinician):
        message = open_stream(client, HTTP_LAST_EVENT_ID=str(event_id - 1)).events(1)[0]
        assert message.json() == {"call_sid": "CA03", "for": client.user.username}
        row = AccessLogEntry.objects.get(user_id=client.user.pk, patient_id=patient)
        assert (row.outcome, row.action, row.status_code) == ("screen_pop", "read", 200)
        assert row.endpoint == "GET /api/v1/desk/stream"


def test_a_head_request_gets_the_streams_headers_and_no_stream(agent):
    response = agent.head(STREAM)

    assert response.status_code == 200 and not response.streaming
    assert response["Content-Type"] == "text/event-stream"
    assert response.content == b""
