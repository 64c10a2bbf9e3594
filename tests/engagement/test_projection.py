"""The suggestions projection: the queue follows the log, closes what was met by itself,
opens what the clock brings due, and is rebuilt from the log row for row (I5, I6)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from typing import Any

import pytest
from django.core.management import call_command

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.handlers import Actor
from crm.models import Event, ParkedStream, PatientProfile, ProjectionCheckpoint
from crm.projections import runner
from engagement import bulk
from engagement import handlers as suggestions
from engagement.conf import rule_config
from engagement.domain.evaluate import evaluate
from engagement.domain.state import fold_engagement
from engagement.models import PatientAgenda, Suggestion
from engagement.passes import UNREAD
from engagement.projection import PROJECTION, reevaluate_due
from tests.crm.history import random_history
from tests.engagement.conftest import of_kind, rows

pytestmark = pytest.mark.django_db

AGENT = Actor(name="agent.avery", channel="api", role="agent")


def _therapy(patient_id, now, *, starts_in=dt.timedelta(days=-2), booked_ago=dt.timedelta(days=9)):
    return (
        handlers.appointment_schedule(
            patient_id=patient_id,
            appointment_type=ev.AppointmentType.THERAPY,
            starts_at=now + starts_in,
            provider="Dr. Okafor",
            location="Main St clinic",
            actor=AGENT,
            now=now - booked_ago,
            occurred_at=now - booked_ago,
        )
        .events[0]
        .event.appointment_id
    )


def _no_show(patient_id, appointment_id, now):
    """The therapy visit of two days ago marked a no-show an hour after it began."""
    handlers.appointment_no_show(
        patient_id=patient_id,
        appointment_id=appointment_id,
        actor=AGENT,
        now=now - dt.timedelta(days=2),
        occurred_at=now - dt.timedelta(days=2) + dt.timedelta(hours=1),
    )


def test_a_no_show_reaches_the_queue_and_leaves_it_when_the_patient_calls_back(
    register, now, catch_up
):
    patient = register()
    visit = _therapy(patient, now)
    _no_show(patient, visit, now)
    catch_up()

    follow_up = rows(patient)[f"no_show_follow_up.{visit}"]
    assert follow_up.status == "open"
    assert follow_up.reason.startswith(
        "No-show for therapy session with Dr. Okafor Sun Nov 1, 2026"
    )
    assert follow_up.evidence[0]["event_type"] == "AppointmentNoShowRecorded"

    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=now - dt.timedelta(hours=1),
        duration_seconds=300,
        disposition=ev.CallDisposition.CONNECTED,
        actor=AGENT,
        now=now,
    )
    catch_up()

    closed = rows(patient)[f"no_show_follow_up.{visit}"]
    assert (closed.status, closed.closed_by) == ("done", "rule")
    assert "voice call" in closed.closed_reason


def test_the_clock_brings_a_confirmation_call_due_through_the_re_evaluation_job(
    register, now, catch_up
):
    patient = register()
    visit = _therapy(patient, now, starts_in=dt.timedelta(days=5), booked_ago=dt.timedelta(days=1))
    catch_up()
    assert of_kind(patient, "confirm_appointment") == []
    agenda = PatientAgenda.objects.get(patient_id=patient)
    assert agenda.next_evaluation_at <= now + dt.timedelta(days=3)

    assert reevaluate_due(now=now + dt.timedelta(days=1)) == 0  # nothing due yet
    assert reevaluate_due(now=now + dt.timedelta(days=3, hours=1)) == 1

    confirm = rows(patient)[f"confirm_appointment.{visit}"]
    assert confirm.status == "open"
    assert confirm.evaluated_at == now + dt.timedelta(days=3, hours=1)


def test_a_batch_writes_only_the_rows_that_changed(register, now, clock, catch_up):
    """A row the evaluation leaves as it was keeps the moment of the evaluation that last
    changed it; a changed one is written at the batch's moment."""
    patient = register()
    visit = _therapy(patient, now)
    _no_show(patient, visit, now)
    catch_up()
    first = rows(patient)[f"no_show_follow_up.{visit}"]
    assert first.evaluated_at == now

    later = now + dt.timedelta(minutes=5)
    clock.set(later)
    call = uuid.uuid4()
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=later - dt.timedelta(minutes=1),
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=AGENT,
        call_id=call,
        now=later,
    )
    catch_up()

    after = rows(patient)
    assert after[f"no_show_follow_up.{visit}"].evaluated_at == now  # unchanged, not written
    assert after[f"callback.{call}.{patient}"].evaluated_at == later
    agenda = PatientAgenda.objects.get(patient_id=patient)
    assert agenda.evaluated_at == later
    assert agenda.position == Event.objects.filter(stream_id=patient).latest("position").position


def test_a_note_alone_moves_the_agenda_and_evaluates_no_one(register, now, clock, catch_up):
    patient = register()
    _therapy(patient, now)
    catch_up()
    before = rows(patient)
    clock.set(now + dt.timedelta(hours=1))
    handlers.note_add(patient_id=patient, text="Prefers mornings.", actor=AGENT)
    catch_up()

    agenda = PatientAgenda.objects.get(patient_id=patient)
    assert agenda.position == Event.objects.filter(stream_id=patient).latest("position").position
    assert agenda.evaluated_at == now  # no evaluation: a note changes no suggestion
    assert {sid: r.evaluated_at for sid, r in rows(patient).items()} == {
        sid: r.evaluated_at for sid, r in before.items()
    }


def test_a_merged_records_suggestions_move_to_the_surviving_record(register, now, catch_up):
    survivor = register(first_name="Rowan")
    duplicate = register(first_name="Ro", phone="(617) 555-0199")
    visit = _therapy(duplicate, now)
    handlers.appointment_no_show(
        patient_id=duplicate, appointment_id=visit, actor=AGENT, now=now, occurred_at=now
    )
    catch_up()
    assert list(rows(duplicate)) and f"no_show_follow_up.{visit}" in rows(duplicate)

    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=AGENT, now=now
    )
    catch_up()

    assert rows(duplicate) == {}
    moved = rows(survivor)[f"no_show_follow_up.{visit}"]
    assert moved.status == "open"
    assert moved.evidence[0]["patient_id"] == str(duplicate)


def test_a_merge_split_over_two_batches_moves_the_suggestions_all_the_same(register, now, catch_up):
    survivor = register(first_name="Rowan")
    duplicate = register(first_name="Ro", phone="(617) 555-0199")
    visit = _therapy(duplicate, now)
    handlers.appointment_no_show(
        patient_id=duplicate, appointment_id=visit, actor=AGENT, now=now, occurred_at=now
    )
    catch_up()
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=AGENT, now=now
    )

    # One event a batch: the survivor takes the duplicate's history (and its suggestion)
    # a batch before the duplicate's own stream says it was merged away.
    assert runner.catch_up(PROJECTION, batch_size=1) == 2

    assert rows(duplicate) == {}
    assert rows(survivor)[f"no_show_follow_up.{visit}"].status == "open"


def test_a_batch_ending_between_the_two_halves_of_a_merge_queues_each_follow_up_once(
    register, now, catch_up
):
    survivor = register(first_name="Rowan")
    duplicate = register(first_name="Ro", phone="(617) 555-0199")
    crisis = handlers.crisis_contact_record(
        patient_id=duplicate,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=AGENT,
        occurred_at=now - dt.timedelta(days=1),
    )
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=AGENT, now=now
    )

    # The first batch holds the duplicate's crisis call and ends with the survivor's half of
    # the merge: the duplicate's own stream says it was merged away only in the next batch.
    assert runner.run_once(PROJECTION, batch_size=4) == 4

    follow_up = f"crisis_follow_up.{crisis.events[0].event.crisis_id}"  # type: ignore[attr-defined]
    assert not ParkedStream.objects.exists()
    assert rows(survivor)[follow_up].status == "open" and rows(duplicate) == {}
    catch_up()
    assert rows(survivor)[follow_up].status == "open" and rows(duplicate) == {}


def test_a_patient_recorded_as_deceased_has_nothing_left_open(register, now, clock, catch_up):
    patient = register()
    visit = _therapy(patient, now)
    handlers.appointment_no_show(
        patient_id=patient, appointment_id=visit, actor=AGENT, now=now, occurred_at=now
    )
    catch_up()
    was_open = {sid for sid, s in rows(patient).items() if s.status == "open"}
    assert f"no_show_follow_up.{visit}" in was_open

    later = now + dt.timedelta(minutes=30)
    handlers.patient_mark_deceased(patient_id=patient, actor=AGENT, now=later, occurred_at=later)
    clock.set(later)
    catch_up()

    assert {s.status for s in rows(patient).values()} == {"expired"}
    assert {rows(patient)[sid].closed_reason for sid in was_open} == {
        "The patient is recorded as deceased."
    }
    agenda = PatientAgenda.objects.get(patient_id=patient)
    # Nothing opens again: the next look is only to forget the closed ones, months later.
    assert agenda.next_evaluation_at >= later + dt.timedelta(days=85)


# --- rebuilds ---------------------------------------------------------------------------------


def dump() -> list[tuple[str, ...]]:
    fields = [f.name for f in Suggestion._meta.concrete_fields]
    agenda = [f.name for f in PatientAgenda._meta.concrete_fields]
    return [
        *(
            tuple(str(v) for v in r)
            for r in Suggestion.objects.order_by("suggestion_id").values_list(*fields)
        ),
        *(
            tuple(str(v) for v in r)
            for r in PatientAgenda.objects.order_by("patient_id").values_list(*agenda)
        ),
    ]


def _queue_activity(seed: int) -> int:
    """Agents working the queue between the clinic's events: claims, completions,
    dismissals, snoozes (refusals included), through the real handlers."""
    rng = random.Random(seed)
    done = 0
    for suggestion in list(Suggestion.objects.order_by("suggestion_id")):
        action = rng.randrange(5)
        common: dict[str, Any] = {
            "patient_id": suggestion.patient_id,
            "suggestion_id": suggestion.suggestion_id,
        }
        moment = suggestion.evaluated_at
        try:
            if action == 0:
                suggestions.suggestion_claim(**common, actor=AGENT, now=moment)
            elif action == 1:
                outcome = {"crisis_follow_up": "reached", "sms_stop_review": "keeps_texts"}
                suggestions.suggestion_complete(
                    **common,
                    outcome=outcome.get(suggestion.kind, "Called"),
                    actor=AGENT,
                    now=moment,
                )
            elif action == 2:
                suggestions.suggestion_dismiss(
                    **common, reason="Not needed", actor=AGENT, now=moment
                )
            elif action == 3:
                suggestions.suggestion_snooze(
                    **common, until=moment + dt.timedelta(days=2), actor=AGENT, now=moment
                )
            done += 1
        except DomainError:
            pass
    return done


def test_rebuilding_the_queue_from_the_log_reproduces_the_live_rows(clock):
    the_end = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)
    clock.set(the_end)
    random_history(seed=41, patients=30, commands=700)
    runner.catch_up(PROJECTION, batch_size=37)  # many small batches
    worked = _queue_activity(seed=41)
    random_history(seed=42, patients=6, commands=120, start=the_end - dt.timedelta(days=20))
    runner.catch_up(PROJECTION, batch_size=37)
    live = dump()

    runner.rebuild(PROJECTION, batch_size=500)

    assert worked > 20
    assert len(live) > 200
    assert {row[4] for row in live if len(row) > 5} >= {"open", "done", "expired"}
    assert dump() == live


def test_the_bulk_re_evaluation_gives_the_same_rows_as_the_projection(clock):
    the_end = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)
    clock.set(the_end)
    random_history(seed=5, patients=20, commands=400)
    profiles = list(PatientProfile.objects.filter(deceased=False).order_by("patient_id"))
    survivor, duplicate = profiles[0].patient_id, profiles[1].patient_id
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=AGENT, now=the_end
    )
    runner.catch_up(PROJECTION, batch_size=50)
    live = dump()

    result = bulk.evaluate_all(now=the_end)

    assert result.patients == 20 and result.suggestions == Suggestion.objects.count()
    assert ProjectionCheckpoint.objects.get(name="suggestions").position == result.position
    assert rows(duplicate) == {} and rows(survivor)
    assert dump() == live


def test_the_events_the_queue_does_not_decode_would_change_no_suggestion(clock):
    """The projection, the handlers and the bulk pass skip the events in UNREAD without
    decoding them; folded in, those events must leave every suggestion as it was."""
    the_end = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)
    random_history(seed=13, patients=16, commands=300)
    message = uuid.uuid4()
    skipped = [
        ev.NoteAdded(note_id=uuid.uuid4(), text="Asked about parking", author="agent.avery"),
        ev.DemographicsChanged(
            first_name="Rowan",
            last_name="Example",
            date_of_birth=dt.date(1980, 1, 2),
            language="es",
        ),
        # SmsSent is read: a text sent counts against the win-back call's frequency cap.
        ev.SmsDelivered(message_id=message),
        ev.SatisfactionRecorded(score=1, channel=ev.Channel.VOICE),
    ]
    assert {type(e).event_type for e in skipped} == UNREAD
    config = rule_config()
    suggestions_seen = 0
    for patient_id in PatientProfile.objects.values_list("patient_id", flat=True):
        stream = eventstore.read_stream(patient_id)
        read = [r for r in stream if r.event_type not in UNREAD]
        # After every event, each skipped kind of event, at the same moment.
        everything = [
            read[0],
            *(
                dataclasses.replace(r, event=extra)
                for r in read[1:]
                for extra in [r.event, *skipped]
            ),
        ]

        as_read = evaluate(fold_engagement(patient_id, read), the_end, config)
        with_skipped = evaluate(fold_engagement(patient_id, everything), the_end, config)

        assert with_skipped == as_read
        suggestions_seen += len(as_read.suggestions)
    assert suggestions_seen > 20


def test_evaluate_suggestions_command_reports_what_it_did(register, now, clock):
    register()
    out = _Sink()

    call_command("evaluate_suggestions", "--all", "--now", now.isoformat(), stdout=out)

    assert "Evaluated 1 patients" in out.text


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_bulk_re_evaluation_in_two_processes_gives_the_projections_rows(clock):
    the_end = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)
    clock.set(the_end)
    random_history(seed=9, patients=24, commands=300)
    runner.catch_up(PROJECTION, batch_size=40)
    live = dump()

    result = bulk.evaluate_all(now=the_end, processes=2)

    assert result.patients == 24 and result.events == Event.objects.count()
    assert dump() == live
