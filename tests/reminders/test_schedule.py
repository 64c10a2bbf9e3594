"""The schedule: which reminders a visit gets, when, and why one will not go out."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.models import PatientProfile
from crm.projections import runner
from reminders.models import Reminder
from reminders.projections import schedule
from tests.crm.history import random_history
from tests.reminders.conftest import local

pytestmark = pytest.mark.django_db

# `now` is Tue Nov 3 2026, 09:00 in New York.
VISIT = local(2026, 11, 10, 10, 30)  # the next Tuesday, 10:30


def test_a_booked_visit_gets_a_reminder_72_and_24_hours_before(clinic):
    patient = clinic.patient()
    clinic.book(patient, VISIT)

    reminders = clinic.reminders(patient)

    assert [(r.offset_hours, r.due_at, r.state, r.reason) for r in reminders] == [
        (72, VISIT - dt.timedelta(hours=72), "scheduled", ""),
        (24, VISIT - dt.timedelta(hours=24), "scheduled", ""),
    ]
    assert all(r.phone == "+16175550134" and r.timezone == "America/New_York" for r in reminders)


def test_offsets_follow_the_visit_type_and_modality(clinic, settings):
    settings.REMINDERS_OFFSETS_BY_KIND = {
        "therapy": (48,),
        "telehealth": (2,),
        "psychiatry/telehealth": (24, 1),
        "test": (),
    }
    patient = clinic.patient()
    therapy = clinic.book(patient, VISIT, kind=ev.AppointmentType.THERAPY)
    video = clinic.book(patient, VISIT + dt.timedelta(days=1), modality=ev.Modality.TELEHEALTH)
    psychiatry = clinic.book(
        patient,
        VISIT + dt.timedelta(days=2),
        kind=ev.AppointmentType.PSYCHIATRY,
        modality=ev.Modality.TELEHEALTH,
    )
    lab = clinic.book(patient, VISIT + dt.timedelta(days=3), kind=ev.AppointmentType.TEST)

    offsets = {}
    for r in clinic.reminders(patient):
        offsets.setdefault(r.appointment_id, []).append(r.offset_hours)

    assert offsets[therapy] == [48]
    assert offsets[video] == [2]
    assert offsets[psychiatry] == [24, 1]
    assert lab not in offsets


def test_rescheduling_moves_the_reminders_to_the_new_time(clinic, actor, now):
    patient = clinic.patient()
    appointment = clinic.book(patient, VISIT)
    clinic.reminders(patient)
    later = VISIT + dt.timedelta(days=7)

    handlers.appointment_reschedule(
        patient_id=patient,
        appointment_id=appointment,
        starts_at=later,
        actor=actor,
        now=now,
        occurred_at=now,
    )

    reminders = clinic.reminders(patient)
    assert [(r.due_at, r.state) for r in reminders] == [
        (later - dt.timedelta(hours=72), "scheduled"),
        (later - dt.timedelta(hours=24), "scheduled"),
    ]


@pytest.mark.parametrize(
    ("close", "reason"),
    [
        ("cancel", "The appointment was cancelled."),
        ("complete", "The appointment took place."),
        ("no_show", "The appointment was marked as a no-show."),
    ],
)
def test_closing_the_visit_cancels_its_reminders(clinic, actor, now, close, reason):
    patient = clinic.patient()
    appointment = clinic.book(patient, VISIT)
    clinic.reminders(patient)
    after_visit = VISIT + dt.timedelta(hours=1)
    if close == "cancel":
        handlers.appointment_cancel(
            patient_id=patient,
            appointment_id=appointment,
            cancelled_by=ev.CancelledBy.PATIENT,
            actor=actor,
            occurred_at=now,
        )
    elif close == "complete":
        handlers.appointment_complete(
            patient_id=patient,
            appointment_id=appointment,
            actor=actor,
            now=after_visit,
            occurred_at=after_visit,
        )
    else:
        handlers.appointment_no_show(
            patient_id=patient,
            appointment_id=appointment,
            actor=actor,
            now=after_visit,
            occurred_at=after_visit,
        )

    assert {(r.state, r.reason) for r in clinic.reminders(patient)} == {("cancelled", reason)}


def test_a_death_cancels_every_reminder(clinic, actor, now):
    patient = clinic.patient()
    clinic.book(patient, VISIT)

    handlers.patient_mark_deceased(patient_id=patient, actor=actor, now=now, occurred_at=now)

    assert {(r.state, r.reason) for r in clinic.reminders(patient)} == {
        ("cancelled", "The patient is recorded as deceased.")
    }


def test_a_merged_away_record_has_its_reminders_cancelled(clinic, actor, now):
    survivor = clinic.patient(phone="(617) 555-0135")
    duplicate = clinic.patient()
    clinic.book(duplicate, VISIT)

    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=actor, now=now
    )

    reminders = clinic.reminders(duplicate)
    assert {r.state for r in reminders} == {"cancelled"}
    assert all(str(survivor) in r.reason for r in reminders)


def test_no_consent_means_no_reminder_and_says_so(clinic):
    patient = clinic.patient(consent=False)
    clinic.book(patient, VISIT)

    assert {(r.state, r.reason) for r in clinic.reminders(patient)} == {
        ("blocked", "No SMS consent for appointment reminders.")
    }


def test_withdrawn_consent_blocks_the_reminders_with_the_date(clinic, actor, now):
    patient = clinic.patient()
    clinic.book(patient, VISIT)

    handlers.consent_revoke(
        patient_id=patient,
        channel=ev.Channel.SMS,
        source=ev.ConsentSource.SMS_KEYWORD,
        actor=actor,
        occurred_at=now,
    )

    assert {(r.state, r.reason) for r in clinic.reminders(patient)} == {
        (
            "blocked",
            "SMS consent for appointment reminders was withdrawn by texting STOP on "
            "Tue Nov 3, 2026, 9:00 AM EST.",
        )
    }


def test_no_mobile_number_blocks_the_reminders(clinic, actor, now):
    patient = clinic.patient()
    clinic.book(patient, VISIT)

    handlers.contact_details_change(
        patient_id=patient,
        actor=actor,
        phone=None,
        timezone_name="America/New_York",
        occurred_at=now,
    )

    assert {(r.state, r.reason) for r in clinic.reminders(patient)} == {
        ("blocked", "No mobile number on file.")
    }


def test_a_reminder_due_in_quiet_hours_moves_to_eight_in_the_morning(clinic):
    patient = clinic.patient()
    early = local(2026, 11, 10, 7, 30)  # 24 h before is 07:30 the day before
    clinic.book(patient, early)

    day_before = next(r for r in clinic.reminders(patient) if r.offset_hours == 24)

    assert day_before.due_at == local(2026, 11, 9, 8, 0)
    assert day_before.state == "scheduled"
    assert "quiet hours" in day_before.reason and "7:30 AM EST" in day_before.reason


def test_quiet_hours_follow_the_patients_own_time_zone(clinic):
    # 10:30 in New York is 07:30 in Los Angeles: a Californian's reminder waits until 08:00.
    patient = clinic.patient(timezone="America/Los_Angeles")
    clinic.book(patient, VISIT)

    day_before = next(r for r in clinic.reminders(patient) if r.offset_hours == 24)

    assert day_before.due_at == local(2026, 11, 9, 8, 0, zone=dt.timezone(dt.timedelta(hours=-8)))


def test_a_reminder_whose_next_allowed_time_is_after_the_visit_is_dropped(clinic, settings):
    settings.REMINDERS_OFFSETS_HOURS = (2,)
    patient = clinic.patient()
    clinic.book(patient, local(2026, 11, 10, 8, 0))  # 2 h before is 06:00: quiet hours

    (reminder,) = clinic.reminders(patient)

    assert reminder.state == "dropped"
    assert reminder.reason == (
        "Quiet hours: the first allowed time, Tue Nov 10, 2026, 8:00 AM EST, "
        "is not before the appointment."
    )


def test_a_visit_booked_after_the_reminder_time_skips_that_reminder(clinic):
    patient = clinic.patient()
    clinic.book(patient, local(2026, 11, 5, 10, 0))  # in two days: 72 h before has passed

    states = {r.offset_hours: (r.state, r.reason) for r in clinic.reminders(patient)}

    assert states[72] == (
        "dropped",
        "The appointment was booked or moved less than 72 hours ahead.",
    )
    assert states[24][0] == "scheduled"


def test_a_satisfaction_text_follows_a_completed_visit_when_enabled(clinic, actor, settings):
    settings.REMINDERS_SATISFACTION_ENABLED = True
    patient = clinic.patient()
    clinic.consent(patient, ev.ConsentPurpose.SURVEYS)
    appointment = clinic.book(patient, VISIT)
    after = VISIT + dt.timedelta(minutes=40)
    handlers.appointment_complete(
        patient_id=patient, appointment_id=appointment, actor=actor, now=after, occurred_at=after
    )

    survey = [r for r in clinic.reminders(patient) if r.kind == "satisfaction"]

    assert [(r.due_at, r.state) for r in survey] == [(after + dt.timedelta(hours=2), "scheduled")]


def test_rebuilding_the_schedule_gives_the_same_rows(clinic, actor, now):
    first = clinic.patient()
    second = clinic.patient(phone="(617) 555-0135", consent=False)
    a = clinic.book(first, VISIT)
    clinic.book(second, VISIT)
    handlers.appointment_reschedule(
        patient_id=first,
        appointment_id=a,
        starts_at=VISIT + dt.timedelta(days=2),
        actor=actor,
        now=now,
        occurred_at=now,
    )
    clinic.reminders()

    def dump():
        return sorted(
            tuple(str(v) for v in row)
            for row in Reminder.objects.values_list(
                *[f.attname for f in Reminder._meta.concrete_fields]
            )
        )

    live = dump()
    runner.rebuild(runner.registered()["reminders"], batch_size=3)

    assert dump() == live
    assert len(live) == 4


def test_the_events_the_schedule_passes_by_change_no_reminder():
    """The projection skips a patient whose batch holds only UNREAD events: derived with
    or without them, every patient of a random history gets the same reminders."""
    random_history(seed=11, patients=25, commands=700)
    streams = eventstore.read_streams(set(PatientProfile.objects.values_list("pk", flat=True)))
    without = {
        pid: [r for r in recorded if r.event_type not in schedule.UNREAD]
        for pid, recorded in streams.items()
    }
    passed_by = Counter(
        r.event_type for s in streams.values() for r in s if r.event_type in schedule.UNREAD
    )

    rows = schedule.derive_rows(streams, schedule.schedule_config())

    assert passed_by["CallLogged"] > 50 and passed_by["NoteAdded"] > 10
    assert len({row.patient_id for row in rows}) > 5
    assert _comparable(rows) == _comparable(
        schedule.derive_rows(without, schedule.schedule_config())
    )


def test_a_batch_of_only_calls_and_notes_reads_no_stream(register, actor, monkeypatch):
    """What the UNREAD set buys: such a batch neither reads nor derives a schedule."""
    patient = register()
    handlers.note_add(patient_id=patient, text="Asked about parking", actor=actor)
    note = eventstore.read_stream(patient)[-1]
    read: list[object] = []
    monkeypatch.setattr(eventstore, "read_streams", lambda *a, **k: read.append(a) or {})

    schedule.ReminderProjection().handle([note])
    assert read == []
    schedule.ReminderProjection().handle(eventstore.read_stream(patient))  # the control
    assert len(read) == 1


def _comparable(rows: list[Reminder]) -> list[tuple[object, ...]]:
    fields = [f.attname for f in Reminder._meta.concrete_fields]
    return sorted(tuple(str(getattr(row, f)) for f in fields) for row in rows)
