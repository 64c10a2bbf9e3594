"""The follower of `run_projections --follow`: woken by a commit (NOTIFY on PostgreSQL, the log's
last position on SQLite), never by a rollback, and polling when a wake-up is lost."""

from __future__ import annotations

import io
import threading
import time
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.eventstore import NewEvent
from crm.handlers import Actor
from crm.projections import follower, runner, wakeup
from engagement.models import Suggestion

# These tests commit (a wake-up comes only with a commit), so the log is emptied at the end.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_empty_append_only_tables"),
]

AGENT = Actor(name="agent.avery", channel="api", role="agent")


def missed_call(patient: uuid.UUID) -> str:
    """An inbound call nobody answered; the id of the call-back suggestion the rules owe."""
    call_id = uuid.uuid4()
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=timezone.now(),
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=AGENT,
        call_id=call_id,
    )
    return f"callback.{call_id}.{patient}"


def call_back_owed(suggestion_id: str) -> bool:
    return Suggestion.objects.filter(suggestion_id=suggestion_id).exists()


class _Abandoned(Exception):
    pass


def test_a_committed_command_wakes_the_follower(register):
    watch = wakeup.for_this_database()
    watch.start()
    try:
        register()
        assert watch.wait(2.0)
    finally:
        watch.close()


def test_a_rolled_back_append_wakes_no_one_and_leaves_the_followers_nothing_to_do(register):
    patient = register()
    runner.catch_up_all()
    watch = wakeup.for_this_database()
    watch.start()
    try:
        note = ev.NoteAdded(note_id=uuid.uuid4(), text="never kept", author="agent.avery")
        with pytest.raises(_Abandoned), transaction.atomic():
            eventstore.append(
                patient, [NewEvent(note, timezone.now())], expected_version=1, metadata={}
            )
            raise _Abandoned

        assert not watch.wait(1.0)
    finally:
        watch.close()
    assert set(runner.catch_up_all().values()) == {0}


def test_a_storm_of_commits_wakes_the_follower_once_and_one_round_takes_them_all(register):
    patient = register()
    runner.catch_up_all()
    watch = wakeup.for_this_database()
    watch.start()
    try:
        for n in range(25):
            handlers.note_add(patient_id=patient, text=f"note {n}", actor=AGENT)

        assert watch.wait(2.0)
        wake_ups = 1
        while watch.wait(0.5):  # what had not reached the listener yet when it woke
            wake_ups += 1
        # Each wake-up takes every notification received by then: a handful at most.
        assert wake_ups <= 3
    finally:
        watch.close()
    assert runner.catch_up_all()["metrics"] == 25


def _follow_until_second_round(
    watch: wakeup.Wakeup, *, interval: float, after_first_round
) -> list[float]:
    """Run a follower here, calling `after_first_round` once it is watching and caught
    up; stop after its second round. When each round ended (monotonic seconds)."""
    rounds: list[float] = []
    stop = follower.Follower(interval=interval, wake=lambda: watch).stop

    def seen(handled: dict[str, int]) -> None:
        rounds.append(time.monotonic())
        if len(rounds) == 1:
            after_first_round()
        else:
            stop.set()

    follower.Follower(interval=interval, wake=lambda: watch, stop=stop, on_round=seen).run()
    return rounds


def test_the_follower_projects_a_missed_call_within_a_second_of_its_commit(register):
    patient = register()
    owed: list[str] = []
    committed: list[float] = []

    def call_comes_in() -> None:
        owed.append(missed_call(patient))
        committed.append(time.monotonic())

    rounds = _follow_until_second_round(
        wakeup.for_this_database(), interval=30.0, after_first_round=call_comes_in
    )

    # Nothing but the wake-up starts a round within the second: the poll waits 30 s.
    assert rounds[1] - committed[0] < 1.0
    assert call_back_owed(owed[0])


class _FlatOut:
    """A wake-up that always says events were committed: a desk appending without pause."""

    def start(self) -> None:
        pass

    def wait(self, timeout: float) -> bool:
        return True

    def close(self) -> None:
        pass


def _rounds_in_a_second(gap: float) -> int:
    rounds: list[dict[str, int]] = []
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    follower.Follower(
        interval=30.0, wake=_FlatOut, stop=stop, on_round=rounds.append, gap=gap
    ).run()
    return len(rounds)


def test_woken_without_pause_rounds_start_a_gap_apart(register):
    assert _rounds_in_a_second(gap=0.25) <= 5  # at 0, 0.25, 0.5, 0.75 (and 1.0) s
    assert _rounds_in_a_second(gap=0) > 10  # the control: a round per wake-up


def test_the_commits_made_during_the_gap_are_taken_in_one_round(register):
    patient = register()
    handled: list[dict[str, int]] = []
    stop = threading.Event()

    def seen(round_handled: dict[str, int]) -> None:
        handled.append(round_handled)
        if len(handled) == 1:
            for n in range(10):  # committed while the follower waits out its gap
                handlers.note_add(patient_id=patient, text=f"note {n}", actor=AGENT)
        elif sum(h.get("metrics", 0) for h in handled) >= 10:
            stop.set()

    follower.Follower(
        interval=30.0, wake=wakeup.for_this_database, stop=stop, on_round=seen, gap=1.0
    ).run()

    assert [h.get("metrics", 0) for h in handled[1:]] == [10]


def test_a_lost_wake_up_is_made_good_by_the_polling_fallback(register):
    patient = register()
    owed: list[str] = []
    # A listener on a channel no append notifies: every wake-up is lost (SQLite's poll
    # cannot lose one, so there the follower is deaf, as with --no-wakeup).
    deaf = (
        wakeup.Listener(channel="crm_events_nobody_sends")
        if connection.vendor == "postgresql"
        else wakeup.Deaf()
    )

    rounds = _follow_until_second_round(
        deaf, interval=1.5, after_first_round=lambda: owed.append(missed_call(patient))
    )

    assert rounds[1] - rounds[0] >= 1.5  # the fallback's round, not a wake-up's
    assert call_back_owed(owed[0])


def test_a_round_that_cannot_reach_the_database_is_logged_and_the_next_one_catches_up(
    register, monkeypatch, caplog
):
    patient = register()
    projection = runner.registered()["suggestions"]
    real = projection.handle
    lost = [True]

    def connection_lost_once(events):
        if lost.pop() if lost else False:
            from django.db import OperationalError

            raise OperationalError("server closed the connection unexpectedly")
        return real(events)

    monkeypatch.setattr(projection, "handle", connection_lost_once)
    owed = missed_call(patient)
    follow = follower.Follower(interval=0.2, wake=wakeup.Deaf)

    first = follow.round()
    assert "suggestions" not in first and not call_back_owed(owed)
    assert "projection suggestions could not catch up" in caplog.text

    follow.round()
    assert call_back_owed(owed)


def test_one_named_projection_is_caught_up_and_an_unknown_name_is_refused_naming_them(register):
    register()

    out = io.StringIO()
    call_command("run_projections", "--projection", "metrics", stdout=out)

    assert out.getvalue().strip() == "metrics: 1 events"
    assert runner.checkpoint_of("suggestions") == 0
    with pytest.raises(CommandError, match=r"No catch-up projection named 'suggestion'; .*metrics"):
        call_command("run_projections", "--projection", "suggestion")


@pytest.mark.postgres
def test_followers_in_threads_of_their_own_each_project_a_missed_call_within_a_second(register):
    patient = register()
    stop = threading.Event()
    rounds: list[str] = []
    thread = threading.Thread(
        target=follower.follow_in_threads,
        kwargs={"interval": 30.0, "stop": stop, "on_round": lambda h: rounds.extend(h)},
    )
    thread.start()
    try:
        while set(rounds) != set(runner.registered()):  # each has caught up and listens
            time.sleep(0.01)
        owed = missed_call(patient)
        committed = time.monotonic()
        while not call_back_owed(owed) and time.monotonic() - committed < 5:
            time.sleep(0.01)

        assert time.monotonic() - committed < 1.0
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
