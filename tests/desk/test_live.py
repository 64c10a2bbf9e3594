"""Events reach open streams as they are committed: the broadcaster's poll (SQLite), its
LISTEN wake-up and fallback poll (PostgreSQL), reconnection, and who receives what."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, connections
from django.utils import timezone

from crm.desk import feed
from crm.desk.broadcast import BROADCASTER
from crm.models import DeskEvent
from tests.desk.conftest import STREAM, Reader

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("committed")]


@pytest.fixture(autouse=True)
def _quick_keep_alive(settings) -> None:  # type: ignore[no-untyped-def]
    # A reader blocked on an idle stream wakes each second instead of each 15.
    settings.DESK_KEEPALIVE_SECONDS = 1


def opened(client, **headers: str) -> tuple[Reader, object]:  # type: ignore[no-untyped-def]
    response = client.get(STREAM, HTTP_ACCEPT="text/event-stream", **headers)
    assert response.status_code == 200
    reader = Reader(iter(response.streaming_content))
    assert reader.next_messages()[0].retry == 2000
    return reader, response


def queue_changed(name: str, **kwargs: object) -> int:
    return feed.publish("queue_changed", {"created": [name], "claimed": [], "closed": []}, **kwargs)  # type: ignore[arg-type]


def test_an_event_committed_after_the_stream_opened_arrives_within_a_second(agent):
    reader, _ = opened(agent)
    started = time.monotonic()

    event_id = queue_changed("annual.1")
    [message] = reader.events(1, within=3)

    assert (message.id, message.event) == (event_id, "queue_changed")
    assert message.json()["created"] == ["annual.1"]
    assert time.monotonic() - started < 1.0


def test_a_desktop_that_reconnects_with_last_event_id_misses_nothing_and_gets_nothing_twice(
    agent,
):
    reader, response = opened(agent)
    first = queue_changed("a")
    assert [m.id for m in reader.events(1)] == [first]
    response.close()  # the desktop loses its connection
    assert BROADCASTER.open_streams() == 0

    missed = [queue_changed("b"), queue_changed("c")]
    again, _ = opened(agent, HTTP_LAST_EVENT_ID=str(first))
    after = queue_changed("d")

    assert [m.id for m in again.events(3)] == [*missed, after]


def test_an_event_for_one_agent_reaches_only_that_agent(agent, front_desk):
    mine, _ = opened(agent)
    theirs, _ = opened(front_desk)

    private = feed.publish("call_ended", {"call_sid": "CA10"}, user_id=agent.user.pk)
    everyone = queue_changed("e")

    assert [m.id for m in mine.events(2)] == [private, everyone]
    assert [m.id for m in theirs.events(1)] == [everyone]


def test_an_idle_stream_sends_keep_alive_comments(agent):
    reader, _ = opened(agent)

    comments = reader.next_messages()

    assert comments[0].comments == ["keep-alive"] and comments[0].id is None


def test_one_read_of_the_feed_serves_every_open_stream(agent, front_desk, settings):
    settings.DESK_POLL_MS = 50
    streams = [opened(agent)[0], opened(front_desk)[0], opened(agent)[0]]
    time.sleep(0.3)
    before = BROADCASTER.reads

    event_id = queue_changed("f")
    for reader in streams:
        assert [m.id for m in reader.events(1)] == [event_id]

    # Polls while idle find nothing; the event was read once, not once per stream.
    assert BROADCASTER.open_streams() == 3
    assert BROADCASTER.reads - before < 3 * 20


@pytest.mark.postgres
def test_postgres_notify_wakes_the_broadcaster_within_a_fraction_of_a_second(
    agent, settings, monkeypatch
):
    settings.DESK_FALLBACK_POLL_MS = 60_000  # only the notification can wake it in time
    monkeypatch.setattr(feed, "_nudge_broadcaster", lambda: None)
    reader, _ = opened(agent)
    _wait_until(lambda: BROADCASTER.listening and BROADCASTER.reads >= 1)
    time.sleep(0.2)  # the broadcaster now waits on its LISTEN connection

    started = time.monotonic()
    event_id = queue_changed("g")
    [message] = reader.events(1, within=3)

    assert message.id == event_id
    assert time.monotonic() - started < 0.5


@pytest.mark.postgres
def test_postgres_an_event_whose_notification_was_lost_still_arrives_by_polling(
    agent, settings, monkeypatch
):
    settings.DESK_FALLBACK_POLL_MS = 300
    monkeypatch.setattr(feed, "_nudge_broadcaster", lambda: None)
    reader, _ = opened(agent)
    _wait_until(lambda: BROADCASTER.listening)

    # Written without NOTIFY, as if the notification had been lost.
    lost = DeskEvent.objects.create(
        kind="queue_changed", data={"created": ["h"]}, created_at=timezone.now()
    )
    started = time.monotonic()
    [message] = reader.events(1, within=3)

    assert message.id == lost.pk
    assert time.monotonic() - started < 1.5


def _wait_until(condition, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the broadcaster did not get ready"
        time.sleep(0.02)


def test_sqlite_busy_for_a_moment_delays_an_event_by_a_poll_not_a_second(
    agent, monkeypatch, caplog
):
    if not _on_sqlite():
        pytest.skip("SQLite's one-writer lock")

    real = BROADCASTER._read_and_fan_out
    refusals = iter([OperationalError("database table is locked: crm_desk_event")])

    def busy_once() -> None:
        for refusal in refusals:
            raise refusal
        real()

    monkeypatch.setattr(BROADCASTER, "_read_and_fan_out", busy_once)
    reader, _ = opened(agent)
    started = time.monotonic()

    event_id = queue_changed("busy.1")
    [message] = reader.events(1, within=3)

    assert message.id == event_id
    assert time.monotonic() - started < 0.9  # the retry after a failure waits 1 s
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def _on_sqlite() -> bool:
    return connections[DeskEvent.objects.db].vendor == "sqlite"
