"""The follower keeps folded states between batches and folds only each batch's events into
them: the queue it writes must be the queue a from-scratch rebuild writes at the same moment,
whatever the batches, whoever else moved the projection, and when a batch is rolled back."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from django.db import transaction

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import PatientProfile
from crm.projections import runner
from engagement import projection
from engagement.projection import SuggestionsProjection
from tests.crm.history import random_history
from tests.engagement.test_projection import _queue_activity, dump

pytestmark = pytest.mark.django_db

AGENT = Actor(name="agent.avery", channel="api", role="agent")
THE_END = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)


class _Refolds:
    """How many patients were folded from their whole streams (not from a kept state)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.patients = 0
        whole = projection._refold

        def counted(patient_ids, **kwargs):  # type: ignore[no-untyped-def]
            self.patients += len(patient_ids)
            return whole(patient_ids, **kwargs)

        monkeypatch.setattr(projection, "_refold", counted)


def _follower(monkeypatch: pytest.MonkeyPatch, *, cache_size: int = 1000) -> SuggestionsProjection:
    follower = SuggestionsProjection(cache_size=cache_size)
    monkeypatch.setattr(follower, "clock", lambda: THE_END)
    return follower


def _from_scratch(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """The rows a rebuild writes folding every patient's whole history (nothing kept)."""
    runner.rebuild(_follower(monkeypatch, cache_size=0), batch_size=500)
    return dump()


def _missed_calls(seed: int, count: int) -> None:
    """Patients calling in and not getting through: events on streams already folded."""
    rng = random.Random(seed)
    ids = list(PatientProfile.objects.order_by("patient_id").values_list("patient_id", flat=True))
    for n in range(count):
        handlers.call_log(
            patient_id=rng.choice(ids),
            direction=ev.CallDirection.INBOUND,
            started_at=THE_END - dt.timedelta(hours=count - n),
            duration_seconds=0,
            disposition=ev.CallDisposition.MISSED,
            actor=AGENT,
            call_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        )


def _catch_up_in_small_batches(follower: SuggestionsProjection, rng: random.Random) -> None:
    while runner.run_once(follower, batch_size=rng.randint(3, 40)):
        pass


def test_a_follower_folding_only_each_batch_writes_the_rebuilds_rows(monkeypatch):
    rng = random.Random(11)
    refolds = _Refolds(monkeypatch)
    follower = _follower(monkeypatch)
    random_history(seed=61, patients=25, commands=600)
    _catch_up_in_small_batches(follower, rng)
    worked = _queue_activity(seed=61)
    _missed_calls(seed=61, count=30)
    _catch_up_in_small_batches(follower, rng)
    profiles = list(PatientProfile.objects.filter(deceased=False).order_by("patient_id"))
    survivor, duplicate = profiles[0].patient_id, profiles[1].patient_id
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=AGENT, now=THE_END
    )
    _missed_calls(seed=62, count=20)
    _catch_up_in_small_batches(follower, rng)
    live = dump()
    touched = refolds.patients

    assert _from_scratch(monkeypatch) == live
    assert worked > 20 and len(live) > 150
    # Most of what the follower wrote came from kept states, not from whole streams.
    assert len(follower.cache) > 20
    # Each patient was folded from its whole stream once, and again around the merge only
    # (the two records and the survivor's first batch after it); every other batch folded
    # its own events into kept states.
    assert touched <= 25 + 3


def test_two_workers_and_a_rolled_back_batch_leave_the_rebuilds_rows(monkeypatch):
    rng = random.Random(12)
    first, second = _follower(monkeypatch), _follower(monkeypatch)
    random_history(seed=71, patients=20, commands=400)
    # The two workers take turns: each one's kept states miss what the other folded.
    while runner.run_once(rng.choice([first, second]), batch_size=rng.randint(5, 60)):
        pass
    _queue_activity(seed=71)
    _missed_calls(seed=71, count=25)
    # A batch that folds into kept states, then rolls back: the states are ahead of the
    # checkpoint, and the batch comes again.
    with pytest.raises(RuntimeError), transaction.atomic():
        assert runner.run_once(first, batch_size=30)
        raise RuntimeError("the worker died before committing")
    runner.run_once(second, batch_size=7)
    _missed_calls(seed=72, count=15)
    while runner.run_once(rng.choice([first, first, second]), batch_size=rng.randint(3, 25)):
        pass
    live = dump()

    assert _from_scratch(monkeypatch) == live
    assert len(first.cache) and len(second.cache)


def test_a_kept_state_from_another_log_is_not_used(monkeypatch):
    """A state kept from a log that is no longer there (a database restored, a test rolled
    back) never feeds a batch: the event at its position is not the one it folded."""
    follower = _follower(monkeypatch)
    random_history(seed=81, patients=6, commands=80)
    with pytest.raises(RuntimeError), transaction.atomic():
        _missed_calls(seed=81, count=10)
        runner.catch_up(follower, batch_size=4)
        raise RuntimeError("restored to before the calls")
    runner.catch_up(follower, batch_size=9)
    _missed_calls(seed=82, count=10)
    runner.catch_up(follower, batch_size=4)
    live = dump()

    assert _from_scratch(monkeypatch) == live
