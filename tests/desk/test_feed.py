"""The feed: publishing, renderers per recipient, the replay window, and the pruning job."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from crm import schedules
from crm.api.audit import AccessNote
from crm.desk import feed
from crm.models import DeskEvent

pytestmark = pytest.mark.django_db


def test_a_published_event_is_stored_with_its_id_kind_body_and_patients():
    patient = uuid.uuid4()

    event_id = feed.publish("call_ended", {"call_sid": "CA" + "1" * 32}, patient_ids=[patient])

    stored = DeskEvent.objects.get(pk=event_id)
    assert stored.kind == "call_ended"
    assert stored.data == {"call_sid": "CA" + "1" * 32}
    assert stored.patient_ids == [str(patient)]
    assert stored.user_id is None


def test_an_unknown_kind_or_a_body_too_large_is_refused_and_nothing_is_stored():
    with pytest.raises(ValueError, match="Unknown desk event kind"):
        feed.publish("phone_rang", {})
    with pytest.raises(ValueError, match="under"):
        feed.publish("queue_changed", {"created": ["x" * 70_000]})

    assert not DeskEvent.objects.exists()


def test_a_renderer_shapes_the_body_for_each_recipient_and_names_what_to_audit(monkeypatch):
    monkeypatch.setattr(feed, "_RENDERERS", {})
    patient = uuid.uuid4()

    @feed.renderer("screen_pop")
    def pop(data, user):  # type: ignore[no-untyped-def]
        body = {**data, "seen_by": user}
        return body, [AccessNote(uuid.UUID(data["patient"]), "screen_pop")]

    event_id = feed.publish("screen_pop", {"patient": str(patient)}, patient_ids=[patient])
    event = feed.replay_since(event_id - 1, user_id=1, now=timezone.now())[0]

    assert feed.render(event, "agent.avery") == (
        {"patient": str(patient), "seen_by": "agent.avery"},
        [AccessNote(patient, "screen_pop")],
    )
    assert feed.renderer_for("queue_changed") is None


def test_kinds_without_a_renderer_are_sent_as_stored():
    event_id = feed.publish("queue_changed", {"created": ["annual.1"], "claimed": [], "closed": []})
    event = feed.replay_since(event_id - 1, user_id=7, now=timezone.now())[0]

    assert feed.render(event, object()) == (
        {"created": ["annual.1"], "claimed": [], "closed": []},
        [],
    )


def _aged(event_id: int, seconds: int) -> None:
    DeskEvent.objects.filter(pk=event_id).update(
        created_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


def test_replay_reaches_back_ten_minutes_and_no_further():
    older = feed.publish("queue_changed", {"n": "10:01 ago"})
    inside = feed.publish("queue_changed", {"n": "9:59 ago"})
    _aged(older, 601)
    _aged(inside, 599)

    replayed = feed.replay_since(0, user_id=1, now=timezone.now())

    assert [e.data["n"] for e in replayed] == ["9:59 ago"]


def test_replay_gives_a_user_their_own_events_and_everyones_but_not_another_users():
    feed.publish("call_ended", {"n": "for 1"}, user_id=1)
    feed.publish("call_ended", {"n": "for 2"}, user_id=2)
    feed.publish("queue_changed", {"n": "for all"})

    replayed = feed.replay_since(0, user_id=1, now=timezone.now())

    assert [e.data["n"] for e in replayed] == ["for 1", "for all"]


def test_the_hourly_job_prunes_events_older_than_a_day():
    old = feed.publish("queue_changed", {"n": "yesterday"})
    kept = feed.publish("queue_changed", {"n": "today"})
    _aged(old, 24 * 3600 + 1)
    _aged(kept, 23 * 3600)

    from crm.desk.tasks import prune_desk_feed

    assert prune_desk_feed() == 1
    assert list(DeskEvent.objects.values_list("pk", flat=True)) == [kept]
    job = next(j for j in schedules.SCHEDULES if j.func == "crm.desk.tasks.prune_desk_feed")
    assert job.minutes == 60
