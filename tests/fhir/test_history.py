"""History is history: imported past visits send no text and open no outreach, suggestions are
computed as of now, and a patient imported as deceased gets no outreach at all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.fhir.matching import new_patient_id
from crm.projections import runner
from engagement.domain.suggestions import ACTIVE, Kind
from engagement.models import Suggestion
from engagement.projection import PROJECTION
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from reminders.models import Reminder
from tests.fhir import builders as b
from tests.fhir.conftest import SOURCE

pytestmark = pytest.mark.django_db


def _at(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _visit(aid, starts, *, status="booked", code="FOLLOWUP", created=None):
    return b.appointment(
        aid,
        status=status,
        start=_at(starts),
        end=_at(starts + dt.timedelta(minutes=30)),
        created=_at(created or starts - dt.timedelta(days=30)),
        meta={"versionId": "1", "lastUpdated": _at(created or starts - dt.timedelta(days=30))},
        appointmentType={
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": code}]
        },
    )


@pytest.fixture
def texting_patient(register, actor):
    """A patient the desk registered years ago, who agreed to reminders and surveys."""
    now = timezone.now()
    patient = register(
        first_name="Avery",
        last_name="Testpatient",
        date_of_birth=dt.date(1980, 4, 12),
        phone="(617) 555-0134",
        now=now,
        occurred_at=now - dt.timedelta(days=3 * 365),
    )
    for purpose in (ev.ConsentPurpose.APPOINTMENT_REMINDERS, ev.ConsentPurpose.SURVEYS):
        handlers.consent_record(
            patient_id=patient,
            channel=ev.Channel.SMS,
            purpose=purpose,
            source=ev.ConsentSource.WRITTEN,
            actor=actor,
            occurred_at=now - dt.timedelta(days=3 * 365),
        )
    return patient


@pytest.fixture(autouse=True)
def _texts(settings):
    settings.SMS_BACKEND = "locmem"
    settings.REMINDERS_SEND_WINDOW = (dt.time(0), dt.time(23, 59))
    settings.REMINDERS_OFFSETS_HOURS = (72, 24)
    settings.REMINDERS_OFFSETS_BY_KIND = {}
    settings.REMINDERS_SATISFACTION_ENABLED = True
    locmem.reset()
    yield
    locmem.reset()


def _suggestions(patient, monkeypatch, now):
    monkeypatch.setattr(PROJECTION, "clock", lambda: now)
    runner.catch_up(PROJECTION)
    return {(s.kind, s.status) for s in Suggestion.objects.filter(patient_id=patient)}


def test_imported_history_sends_no_text_and_opens_no_outreach(ehr, texting_patient, monkeypatch):
    now = timezone.now()
    two_years = now - dt.timedelta(days=730)
    summary = ehr(
        b.patient(),
        b.encounter(
            "enc-wellness",
            period={"start": _at(two_years), "end": _at(two_years + dt.timedelta(minutes=40))},
        ),
        _visit("apt-old-fulfilled", two_years + dt.timedelta(days=30), status="fulfilled"),
        _visit("apt-old-noshow", two_years + dt.timedelta(days=60), status="noshow"),
        _visit("apt-old-booked", now - dt.timedelta(days=400)),  # never closed by the EHR
        _visit("apt-last-week-done", now - dt.timedelta(days=7), status="fulfilled"),
        at=now,
    )
    assert summary.refused == []

    runner.catch_up(runner.registered()["reminders"])
    report = dispatch_due(now=now)

    assert locmem.outbox == []
    assert report.sent == 0
    rows = list(Reminder.objects.filter(patient_id=texting_patient))
    assert not [r for r in rows if r.kind == "satisfaction"]
    assert {r.state for r in rows} <= {"cancelled", "dropped"}
    found = _suggestions(texting_patient, monkeypatch, now)
    active = {kind for kind, status in found if status in {s.value for s in ACTIVE}}
    assert Kind.NO_SHOW_FOLLOW_UP.value not in active
    assert Kind.CALLBACK.value not in active
    # Computed as of now: the last wellness visit was two years ago, so one is due.
    assert Kind.ANNUAL_WELLNESS.value in active


def test_a_visit_ahead_gets_only_the_reminders_still_ahead_of_it(ehr, texting_patient):
    now = timezone.now()
    soon = now + dt.timedelta(hours=50)  # its 72-hour reminder was due a day ago
    ehr(b.patient(), _visit("apt-soon", soon, created=now - dt.timedelta(days=20)), at=now)

    dispatch_due(now=now)
    rows = {
        r.offset_hours: r
        for r in Reminder.objects.filter(patient_id=texting_patient, kind="reminder")
    }

    assert rows[72].state == "dropped"
    assert rows[72].reason.startswith("Imported from the EHR after this reminder's time")
    assert rows[24].state == "scheduled"
    assert locmem.outbox == []


def test_a_patient_imported_as_deceased_gets_no_outreach(ehr, monkeypatch):
    now = timezone.now()
    summary = ehr(
        b.patient(deceasedDateTime=_at(now - dt.timedelta(days=200))),
        b.encounter(
            period={
                "start": _at(now - dt.timedelta(days=900)),
                "end": _at(now - dt.timedelta(days=900, minutes=-30)),
            }
        ),
        _visit("apt-ahead", now + dt.timedelta(days=20)),
        _visit("apt-missed", now - dt.timedelta(days=250), status="noshow"),
        at=now,
    )
    patient = new_patient_id(SOURCE, "Patient/pat-1")

    types = [e.event_type for e in eventstore.read_stream(patient)]
    assert "PatientDeceased" in types
    assert summary.skipped_why == {
        "Appointment: the patient is recorded as deceased: no visit ahead is booked": 1
    }
    runner.catch_up(runner.registered()["reminders"])
    dispatch_due(now=now)
    assert locmem.outbox == []
    assert not Reminder.objects.filter(patient_id=patient, state="scheduled").exists()
    found = _suggestions(patient, monkeypatch, now)
    assert not {kind for kind, status in found if status in {s.value for s in ACTIVE}}


def test_a_death_recorded_later_by_the_ehr_cancels_what_was_planned(ehr, monkeypatch):
    now = timezone.now()
    ehr(b.patient(), _visit("apt-ahead", now + dt.timedelta(days=20)), at=now)
    patient = new_patient_id(SOURCE, "Patient/pat-1")

    ehr(b.patient(meta={"versionId": "2"}, deceasedBoolean=True), at=now)

    runner.catch_up(runner.registered()["reminders"])
    assert {r.state for r in Reminder.objects.filter(patient_id=patient)} <= {
        "cancelled",
        "blocked",
    }
    assert [e.event_type for e in eventstore.read_stream(patient)][-1] == "PatientDeceased"
