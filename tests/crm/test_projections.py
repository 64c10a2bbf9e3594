"""Read models are disposable: a rebuild from the log gives the very rows the live system
holds (I5), and a catch-up projection's checkpoint moves with its rows (I6)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import pytest
from django.core.management import call_command
from django.db import models

from crm import handlers
from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.handlers import Actor
from crm.handlers.base import execute
from crm.models import DailyCallStats, Event, PatientProfile, RemindedAppointment
from crm.projections import profile, runner
from crm.projections.churn import ChurnProjection
from crm.projections.metrics import MetricsProjection
from tests.crm.history import random_history
from tests.threads import together

READ_MODELS: list[type[models.Model]] = [
    PatientProfile,
    *MetricsProjection.read_models,
    *ChurnProjection.read_models,
]


def dump() -> dict[str, list[tuple[str, ...]]]:
    """Every row of every read model, without surrogate ids, in a stable order."""
    result = {}
    for model in READ_MODELS:
        fields = [f.name for f in model._meta.concrete_fields if f.name != "id"]
        rows = model._default_manager.order_by(*fields[:3]).values_list(*fields)
        result[model.__name__] = [tuple(str(v) for v in row) for row in rows]
    return result


@pytest.mark.django_db
def test_rebuilding_every_read_model_reproduces_the_live_rows_exactly():
    accepted = random_history(seed=20261103, patients=40, commands=900)
    runner.catch_up_all()
    live = dump()

    call_command("rebuild_projections", "--no-progress", stdout=_Sink(), stderr=_Sink())
    rebuilt = dump()

    assert accepted > 400 and Event.objects.count() > 450
    assert len(live["PatientProfile"]) == 40 and live["DailyCallStats"]
    assert live["LoggedCall"] and live["RemindedAppointment"]
    for name in live:
        assert rebuilt[name] == live[name], f"{name} differs after rebuild"


@pytest.mark.django_db
def test_rebuild_of_one_named_projection_leaves_the_others_alone():
    random_history(seed=7, patients=5, commands=60)
    runner.catch_up_all()
    before = dump()
    call_command("rebuild_projections", "metrics", "--no-progress", stdout=_Sink(), stderr=_Sink())
    assert dump() == before


@pytest.mark.django_db
def test_an_unknown_projection_name_is_refused_with_the_known_ones_listed():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Known: profile, metrics"):
        call_command("rebuild_projections", "profiles", stdout=_Sink(), stderr=_Sink())


class WorkerDied(BaseException):
    """The process going away (a kill, out of memory): nothing a projection can catch,
    unlike an event it cannot apply, which parks a stream."""


class _CrashAfterWriting(MetricsProjection):
    """Writes its rows for the batch, then dies before the checkpoint can move."""

    crashes_left = 0

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        super().handle(events)
        if self.crashes_left:
            self.crashes_left -= 1
            raise WorkerDied("worker died mid-batch")


@pytest.mark.django_db
def test_a_crash_mid_batch_replays_the_batch_without_doubling_or_skipping():
    random_history(seed=11, patients=10, commands=200)
    projection = _CrashAfterWriting()
    runner.run_once(projection, batch_size=50)  # one clean batch first
    after_first = (dump(), runner.checkpoint_of("metrics"))
    assert after_first[1] > 0

    projection.crashes_left = 1
    with pytest.raises(WorkerDied, match="mid-batch"):
        runner.run_once(projection, batch_size=50)

    assert (dump(), runner.checkpoint_of("metrics")) == after_first  # rolled back together
    runner.catch_up(projection, batch_size=50)
    recovered = dump()
    runner.rebuild(MetricsProjection())
    assert dump() == recovered
    assert runner.checkpoint_of("metrics") == Event.objects.order_by("-position").first().position  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_metrics_count_a_clinic_day_the_way_a_supervisor_reads_it(register, actor, now):
    patient = register()

    morning = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York
    for disposition, seconds in [
        (ev.CallDisposition.CONNECTED, 300),
        (ev.CallDisposition.CONNECTED, 120),
        (ev.CallDisposition.ABANDONED, 0),
        (ev.CallDisposition.VOICEMAIL, 30),
    ]:
        handlers.call_log(
            patient_id=patient,
            direction=ev.CallDirection.INBOUND,
            started_at=morning,
            duration_seconds=seconds,
            hold_seconds=20 if seconds else 0,
            disposition=disposition,
            resolved_first_contact=seconds == 300,
            actor=actor,
            now=now,
        )
    runner.catch_up_all()

    day = DailyCallStats.objects.get(day=dt.date(2026, 11, 3), channel="voice", direction="inbound")
    assert (day.calls, day.connected, day.abandoned, day.unanswered) == (4, 2, 1, 1)
    assert day.resolved_first_contact == 1
    assert (day.talk_seconds, day.hold_seconds) == (380, 40)


def _book(patient: uuid.UUID, starts_at: dt.datetime, actor: Actor) -> uuid.UUID:
    visit = uuid.uuid4()
    booked = starts_at - dt.timedelta(days=14)
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_id=visit,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=starts_at,
        provider="Dr. Priya Fernhurst",
        location="Main Street Clinic",
        actor=actor,
        now=booked,
        occurred_at=booked,
    )
    return visit


def _reminder_texted(patient: uuid.UUID, sent_at: dt.datetime) -> None:
    """A reminder text as recorded before texts named their visit (no appointment_id)."""
    execute(
        patient_id=patient,
        decide=lambda state: [
            ev.SmsSent(
                message_id=uuid.uuid4(),
                to=state.phone or "",
                body="Reminder of your visit. Reply C to confirm.",
                purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
                reminder_id=uuid.uuid4(),
            )
        ],
        actor=Actor.system("reminders"),
        occurred_at=sent_at,
    )


def _reminded() -> dict[uuid.UUID, tuple[dt.datetime | None, dt.datetime | None]]:
    runner.catch_up_all()
    return {
        row.appointment_id: (row.first_reminder_at, row.confirmed_by_text_at)
        for row in RemindedAppointment.objects.all()
    }


@pytest.mark.django_db
def test_a_reminder_naming_no_visit_counts_for_the_visit_moved_ahead_of_the_others(
    register, actor, now
):
    patient = register()
    moved_up = _book(patient, now + dt.timedelta(days=10), actor)
    next_week = _book(patient, now + dt.timedelta(days=5), actor)
    handlers.appointment_reschedule(
        patient_id=patient,
        appointment_id=moved_up,
        starts_at=now + dt.timedelta(days=2),
        actor=actor,
        now=now,
        occurred_at=now,
    )
    runner.catch_up_all()  # the visits are followed already when the text comes, as live
    sent_at = now + dt.timedelta(hours=1)
    _reminder_texted(patient, sent_at)

    assert _reminded() == {moved_up: (sent_at, None), next_week: (None, None)}


@pytest.mark.django_db
def test_a_text_confirmation_before_any_reminder_is_not_credited_to_a_reminder(
    register, actor, now
):
    patient = register()
    visit = _book(patient, now + dt.timedelta(days=3), actor)
    handlers.appointment_confirm(
        patient_id=patient,
        appointment_id=visit,
        via=ev.Channel.SMS,
        actor=Actor.system("sms"),
        now=now,
        occurred_at=now,
    )
    sent_at = now + dt.timedelta(days=2)
    _reminder_texted(patient, sent_at)

    assert _reminded() == {visit: (sent_at, None)}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_catching_up_at_once_count_every_event_once():
    random_history(seed=5, patients=15, commands=400)

    together(3, lambda i: runner.catch_up(MetricsProjection(), batch_size=20))
    runner.catch_up(MetricsProjection())
    concurrent = dump()

    runner.rebuild(MetricsProjection())
    assert dump() == concurrent


def test_the_profile_is_named_profile_for_the_command_line():
    assert profile.NAME == "profile"


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


class _Recording(runner.CatchUpProjection):
    read_models = ()

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name  # type: ignore[misc]  # one instance per name, in this test only
        self.log = log

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        self.log.append(self.name)


@pytest.mark.django_db
def test_catching_up_takes_a_batch_of_each_projection_in_turn(register, actor, settings):
    """A projection that cannot keep up with the appends must not hold the ones after it
    (the queue of suggestions) back until it is done: each gets a batch in turn."""
    patient = register()
    for n in range(5):
        handlers.note_add(patient_id=patient, text=f"note {n}", actor=actor)
    settings.PROJECTION_BATCH_SIZE = 2
    log: list[str] = []

    handled = runner.catch_up_all([_Recording("slow_one", log), _Recording("queue", log)])

    assert handled == {"slow_one": 6, "queue": 6}  # the registration and five notes
    assert log == ["slow_one", "queue"] * 3
