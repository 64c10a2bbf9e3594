"""I11: an event a projection cannot apply parks its stream; every other stream and every
other projection goes on, and a retry once the cause is fixed equals a rebuild."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from crm import handlers
from crm.domain import events as ev
from crm.eventstore.records import describe
from crm.handlers import Actor
from crm.models import DailyCallStats, Event, ParkedStream, PatientProfile
from crm.projections import parking, profile, runner
from engagement import projection
from engagement.bulk import evaluate_all
from engagement.models import PatientAgenda, Suggestion
from engagement.projection import PROJECTION, reevaluate_due
from tests.crm.parking import FUTURE_TYPE, insert_raw, release_that_knows_letters
from tests.crm.test_projections import dump

pytestmark = pytest.mark.django_db
DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")
CATCH_UP = list(runner.registered())


def crisis(patient) -> None:
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=DESK,
    )


def missed_call(patient) -> None:
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=timezone.now() - dt.timedelta(minutes=20),
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=DESK,
    )


def parked() -> dict[str, list[tuple[object, int, str]]]:
    found: dict[str, list[tuple[object, int, str]]] = {}
    for row in ParkedStream.objects.order_by("projection"):
        found.setdefault(row.projection, []).append((row.stream_id, row.position, row.event_type))
    return found


def kinds(patient) -> set[str]:
    return set(
        Suggestion.objects.filter(patient_id=patient, status="open").values_list("kind", flat=True)
    )


def test_a_crisis_reaches_the_queue_while_another_patients_stream_is_unreadable(register):
    stuck, in_crisis = register(first_name="Rowan"), register(first_name="Casey")
    bad = insert_raw(stuck)
    crisis(in_crisis)

    runner.catch_up_all()

    assert "crisis_follow_up" in kinds(in_crisis)
    assert parked() == {name: [(stuck, bad, FUTURE_TYPE)] for name in CATCH_UP}
    row = ParkedStream.objects.get(projection="suggestions")
    assert "Unknown event type 'LetterMailed'" in row.error
    assert all(
        runner.checkpoint_of(name) == bad + 1 or runner.checkpoint_of(name) > bad
        for name in CATCH_UP
    )


def test_once_the_release_that_reads_it_is_deployed_a_retry_equals_a_rebuild(register):
    stuck, other = register(first_name="Rowan"), register(first_name="Riley")
    insert_raw(stuck)
    missed_call(other)
    runner.catch_up_all()

    with release_that_knows_letters():
        out = io.StringIO()
        call_command("retry_parked", stdout=out)
        assert f"released {len(CATCH_UP)}, still parked 0" in out.getvalue()
        assert not ParkedStream.objects.exists()
        # The profile is left out: it is written by commands, and this row skipped them.
        live, queue = _followers(), _suggestions()
        for name in CATCH_UP:
            call_command("rebuild_projections", name, "--no-progress", stdout=io.StringIO())
        assert (_followers(), _suggestions()) == (live, queue)


def test_a_parked_streams_later_events_wait_in_order_and_follow_once_it_is_retried(
    register, monkeypatch
):
    stuck, other = register(first_name="Rowan"), register(first_name="Riley")
    metrics = runner.registered()["metrics"]
    handle = metrics.handle

    def broken(events):  # a bug in this release's metrics, for Rowan's calls only
        if any(e.stream_id == stuck and e.event_type == "CallLogged" for e in events):
            raise ValueError("cannot count this call")
        handle(events)

    monkeypatch.setattr(metrics, "handle", broken)
    missed_call(stuck)
    runner.catch_up_all()
    missed_call(stuck)
    missed_call(other)
    runner.catch_up_all()

    assert parked() == {"metrics": [(stuck, _calls(stuck)[0], "CallLogged")]}
    assert _counted_calls() == 1  # Riley's; Rowan's two wait
    assert {"callback"} <= kinds(stuck)  # the other projections went on with Rowan too

    monkeypatch.setattr(metrics, "handle", handle)  # the fix is deployed
    assert call_command("retry_parked", stdout=io.StringIO()) is None
    assert _counted_calls() == 3
    live = dump()
    call_command("rebuild_projections", "metrics", "--no-progress", stdout=io.StringIO())
    assert dump() == live


def _followers() -> dict[str, list[tuple[str, ...]]]:
    rows = dump()
    del rows["PatientProfile"]
    return rows


def _calls(patient) -> list[int]:
    return list(
        Event.objects.filter(stream_id=patient, event_type="CallLogged")
        .order_by("position")
        .values_list("position", flat=True)
    )


def _counted_calls() -> int:
    return sum(DailyCallStats.objects.values_list("calls", flat=True))


def test_a_retry_that_fails_again_keeps_the_stream_parked_with_one_more_try(register):
    stuck = register()
    insert_raw(stuck)
    runner.catch_up_all()

    out = io.StringIO()
    call_command("retry_parked", "--projection", "metrics", stdout=out)

    row = ParkedStream.objects.get(projection="metrics")
    assert row.attempts == 2 and row.retried_at is not None
    assert "released 0, still parked 1" in out.getvalue()
    assert f"parked: metrics {stuck}" in out.getvalue()


def test_the_clocks_re_evaluation_parks_a_patient_whose_rules_fail_and_goes_on(
    register, now, monkeypatch
):
    stuck, waiting = register(first_name="Rowan"), register(first_name="Riley")
    missed_call(waiting)
    runner.catch_up(PROJECTION)
    Suggestion.objects.filter(patient_id=waiting).delete()  # as if the clock had to add it
    PatientAgenda.objects.update(next_evaluation_at=now - dt.timedelta(minutes=1))
    evaluate = projection.evaluate

    def failing(state, moment, config):  # a rule that breaks at this hour, for Rowan only
        if state.patient_id == stuck:
            raise ArithmeticError("the clock broke a rule")
        return evaluate(state, moment, config)

    monkeypatch.setattr(projection, "evaluate", failing)
    reevaluate_due(now=timezone.now())

    position = PatientAgenda.objects.get(patient_id=stuck).position
    assert parked() == {"suggestions": [(stuck, position, "")]}
    assert "callback" in kinds(waiting)
    reevaluate_due(now=timezone.now())  # the parked patient no longer holds a batch back
    assert ParkedStream.objects.get().attempts == 1


def test_the_bulk_evaluation_parks_what_it_cannot_read_and_evaluates_everyone_else(register):
    stuck, other = register(first_name="Rowan"), register(first_name="Riley")
    bad = insert_raw(stuck)
    crisis(other)

    result = evaluate_all(now=timezone.now())

    assert result.patients == 1
    assert parked() == {"suggestions": [(stuck, bad, FUTURE_TYPE)]}
    assert "crisis_follow_up" in kinds(other)


def test_the_profile_rebuild_keeps_what_came_before_an_unreadable_event_and_parks_it(register):
    stuck, other = register(first_name="Rowan"), register(first_name="Riley")
    bad = insert_raw(stuck)
    before = dump()["PatientProfile"]

    call_command("rebuild_projections", "profile", "--no-progress", stdout=io.StringIO())

    assert dump()["PatientProfile"] == before
    assert parked() == {"profile": [(stuck, bad, FUTURE_TYPE)]}
    assert PatientProfile.objects.filter(patient_id=other).exists()
    with release_that_knows_letters():
        assert profile.retry(stuck)
    assert not ParkedStream.objects.exists()


def _suggestions() -> list[tuple[str, ...]]:
    fields = ["suggestion_id", "patient_id", "kind", "status", "reason", "due_at"]
    return [
        tuple(map(str, row))
        for row in Suggestion.objects.order_by(*fields[:2]).values_list(*fields)
    ]


def test_a_projection_that_cannot_run_at_all_does_not_hold_back_the_ones_after_it(
    register, monkeypatch
):
    first = runner.registered()["metrics"]
    assert CATCH_UP.index("metrics") < CATCH_UP.index("suggestions")  # metrics runs first
    monkeypatch.setattr(first, "handle", _lost_connection)
    in_crisis = register(first_name="Casey")
    crisis(in_crisis)

    with pytest.raises(runner.ProjectionsFailed) as failed:
        runner.catch_up_all()

    assert failed.value.names == [first.name]
    assert set(failed.value.handled) == set(CATCH_UP) - {first.name}
    assert not ParkedStream.objects.exists()  # the database's trouble is nobody's stream
    assert runner.checkpoint_of(first.name) == 0
    assert "crisis_follow_up" in kinds(in_crisis)


def _lost_connection(events):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_worker_running_before_its_migration_parks_nobody_and_stops_only_that_projection(
    register, monkeypatch
):
    first = runner.registered()["metrics"]
    monkeypatch.setattr(first, "handle", _column_not_migrated_yet)
    in_crisis = register(first_name="Casey")
    crisis(in_crisis)

    with pytest.raises(runner.ProjectionsFailed) as failed:
        runner.catch_up_all()

    assert failed.value.names == [first.name]
    assert not ParkedStream.objects.exists()  # the schema's trouble is nobody's stream
    assert runner.checkpoint_of(first.name) == 0  # replayed once the migration has run
    assert "crisis_follow_up" in kinds(in_crisis)


def _column_not_migrated_yet(events):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT column_of_the_next_release FROM {Event._meta.db_table}")


def test_a_reason_holding_nul_or_a_lone_surrogate_is_still_stored_when_parking(register):
    stuck = register()
    insert_raw(stuck)
    event = Event.objects.get(stream_id=stuck, event_type=FUTURE_TYPE)
    reason = describe(ValueError("bad \x00 value \ud800"))

    parking.park_at("metrics", stuck, position=event.position, event_type="X", error=reason)

    stored = ParkedStream.objects.get().error
    assert "\x00" not in stored and stored.startswith("ValueError: bad \\x00 value")
