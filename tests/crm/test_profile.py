"""The profile an agent sees is updated in the same transaction as every command."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, InvalidInput
from crm.domain.phones import normalize_phone
from crm.models import Event, PatientProfile

pytestmark = pytest.mark.django_db


def _profile(patient) -> PatientProfile:  # type: ignore[no-untyped-def]
    return PatientProfile.objects.get(patient_id=patient)


@pytest.mark.parametrize("typed", ["(617) 555-0134", "617.555.0134", "+1 617 555 0134"])
def test_a_number_typed_any_way_finds_the_same_patient(register, typed):
    patient = register(phone="617-555-0134")

    matches = PatientProfile.objects.filter(phone=normalize_phone(typed, region="US"))

    assert [p.patient_id for p in matches] == [patient]
    assert _profile(patient).phone == "+16175550134"


def test_an_invalid_phone_number_is_refused_with_the_field_named_and_nothing_stored(register):
    with pytest.raises(InvalidInput) as refused:
        register(phone="555-0134")
    assert refused.value.field == "phone" and "area code" in refused.value.detail
    assert not Event.objects.exists() and not PatientProfile.objects.exists()


def test_the_time_zone_is_the_patients_own_else_their_phones_else_the_clinics(register, actor):
    explicit = register(timezone_name="America/Denver")
    from_phone = register(phone="+1 206 555 0142")  # a Seattle area code
    no_phone = register(phone=None)

    assert (_profile(explicit).timezone, _profile(explicit).timezone_source) == (
        "America/Denver",
        "explicit",
    )
    assert (_profile(from_phone).timezone, _profile(from_phone).timezone_source) == (
        "America/Los_Angeles",
        "phone",
    )
    assert (_profile(no_phone).timezone, _profile(no_phone).timezone_source) == (
        "America/New_York",
        "clinic",
    )


def test_the_profile_follows_a_patients_visits_calls_and_consents(register, actor, now):
    patient = register()
    past = now - dt.timedelta(days=30)
    annual = (
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.ANNUAL_WELLNESS,
            starts_at=past,
            provider="Dr. Example",
            location="Main",
            actor=actor,
            now=past - dt.timedelta(days=14),
        )
        .events[0]
        .event
    )
    handlers.appointment_complete(
        patient_id=patient, appointment_id=annual.appointment_id, actor=actor, now=past
    )
    therapy = (
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.THERAPY,
            modality=ev.Modality.TELEHEALTH,
            starts_at=now + dt.timedelta(days=2),
            provider="Dr. Example",
            location="Telehealth",
            actor=actor,
            now=now,
        )
        .events[0]
        .event
    )
    missed = (
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.THERAPY,
            starts_at=now - dt.timedelta(days=3),
            provider="Dr. Example",
            location="Main",
            actor=actor,
            now=now - dt.timedelta(days=10),
        )
        .events[0]
        .event
    )
    handlers.appointment_no_show(
        patient_id=patient, appointment_id=missed.appointment_id, actor=actor, now=now
    )
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.INBOUND,
        started_at=now - dt.timedelta(hours=1),
        duration_seconds=240,
        disposition=ev.CallDisposition.CONNECTED,
        actor=actor,
        now=now,
    )
    handlers.consent_record(
        patient_id=patient,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=actor,
    )

    profile = _profile(patient)
    assert profile.last_visit_by_type == {"annual_wellness": past.isoformat()}
    assert [a["appointment_id"] for a in profile.upcoming_appointments] == [
        str(therapy.appointment_id)
    ]
    assert profile.upcoming_appointments[0]["modality"] == "telehealth"
    assert profile.next_appointment_at == therapy.starts_at
    assert (profile.calls_count, profile.no_show_count) == (1, 1)
    assert profile.last_contact_at == now - dt.timedelta(hours=1)
    assert profile.consents["sms:appointment_reminders"]["granted"] is True
    assert profile.version == 8


def test_a_crisis_contact_raises_the_flag_until_a_clinician_clears_it(register, actor):
    patient = register()
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CRISIS_LINE,
        safety_plan=ev.SafetyPlan.REVIEWED,
        actor=actor,
    )
    flagged = _profile(patient)
    assert flagged.crisis_flag and flagged.last_crisis["risk_level"] == "high"  # type: ignore[index]

    handlers.crisis_flag_clear(patient_id=patient, reason="Reviewed in session", actor=actor)
    cleared = _profile(patient)
    assert not cleared.crisis_flag and cleared.crisis_contacts == 1


def test_a_deceased_patient_cannot_be_booked_and_the_refusal_leaves_no_trace(register, actor, now):
    patient = register()
    handlers.patient_mark_deceased(patient_id=patient, actor=actor, now=now)
    version = _profile(patient).version

    with pytest.raises(CommandRefused, match="deceased"):
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.FOLLOW_UP,
            starts_at=now + dt.timedelta(days=1),
            provider="Dr. Example",
            location="Main",
            actor=actor,
            now=now,
        )

    assert _profile(patient).deceased and _profile(patient).version == version
    assert Event.objects.filter(stream_id=patient).count() == version


def test_a_merged_record_points_to_the_survivor_and_refuses_new_commands(register, actor):
    survivor, duplicate = register(), register(first_name="Rowan J.")

    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=actor
    )

    assert _profile(duplicate).merged_into == survivor
    with pytest.raises(CommandRefused, match=str(survivor)):
        handlers.note_add(patient_id=duplicate, text="hello", actor=actor)


def test_a_crisis_contact_on_a_merged_record_lands_on_the_surviving_one(register, actor):
    survivor, duplicate = register(), register(first_name="Rowan J.")
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=actor
    )

    result = handlers.crisis_contact_record(
        patient_id=duplicate,
        risk_level=ev.RiskLevel.MODERATE,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=actor,
    )

    assert result.patient_id == survivor
    assert _profile(survivor).crisis_flag and not _profile(duplicate).crisis_flag
