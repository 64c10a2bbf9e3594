"""Patients matched by EHR identifier, then name, birth date and phone; an ambiguous match is
listed for the front desk and never merged, and the next import follows the desk's decision."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import eventstore
from crm.fhir.matching import new_patient_id
from crm.fhir.report import table
from crm.models import EhrMatchReview, MatchDecision, PatientIdentifier, PatientProfile
from tests.fhir import builders as b
from tests.fhir.conftest import SOURCE

pytestmark = pytest.mark.django_db

BORN = dt.date(1980, 4, 12)


def _desk_patient(register, phone="(617) 555-0134"):
    return register(first_name="Avery", last_name="Testpatient", date_of_birth=BORN, phone=phone)


def test_a_patient_already_in_the_crm_is_matched_by_name_birth_date_and_phone(ehr, register):
    known = _desk_patient(register)

    summary = ehr(b.patient(), b.encounter())

    assert summary.imported == {"Patient": 1, "Encounter": 1}
    assert PatientProfile.objects.count() == 1
    types = [e.event_type for e in eventstore.read_stream(known)]
    assert "PatientIdentifierRecorded" in types and types[-1] == "AppointmentCompleted"
    assert set(PatientIdentifier.objects.values_list("patient_id", flat=True)) == {known}


def test_later_imports_find_the_patient_by_the_ehrs_identifier_whatever_the_name(ehr):
    ehr(b.patient())
    renamed = b.patient(
        meta={"versionId": "2"},
        name=[{"use": "official", "family": "Newname", "given": ["Avery"]}],
        telecom=[],
    )

    ehr(renamed)

    [profile] = PatientProfile.objects.all()
    assert (profile.patient_id, profile.last_name) == (
        new_patient_id(SOURCE, "Patient/pat-1"),
        "Newname",
    )


def test_an_mrn_of_a_patient_known_under_another_ehr_record_goes_to_the_front_desk(ehr):
    ehr(b.patient())

    summary = ehr(b.patient("pat-1-new", identifier=b.patient()["identifier"]))

    assert PatientProfile.objects.count() == 1
    assert (
        "its MRN names a patient the EHR knows under another record" in summary.ambiguous[0].reason
    )
    assert EhrMatchReview.objects.get().resource == "Patient/pat-1-new"


def test_an_ambiguous_record_seen_again_keeps_its_first_sighting_and_moves_its_last(ehr, now):
    ehr(b.patient())
    ambiguous = b.patient("pat-1-new", identifier=b.patient()["identifier"])
    ehr(ambiguous)
    later = now + dt.timedelta(days=1)

    ehr(ambiguous, at=later)

    review = EhrMatchReview.objects.get()
    assert (review.first_seen_at, review.last_seen_at) == (now, later)
    assert review.resource == "Patient/pat-1-new" and review.candidates


def test_a_dry_run_sees_the_same_ambiguity_as_the_import_within_one_run(ehr):
    # One export holding a patient twice: as Patient/pat-1 (a Bulk Data file) and as a
    # transaction's new resource with the same MRN (a Synthea-style Bundle). The dry run
    # must report what the import then does: the second record waits for the front desk.
    twice = (
        b.patient(),
        b.patient("pat-1-again", identifier=b.patient()["identifier"]),
        b.encounter("enc-9", "Patient/pat-1-again"),
    )

    dry = ehr(*twice, dry_run=True, batch_size=1)  # in another batch, as another file
    real = ehr(*twice, batch_size=1)

    assert dry.ambiguous_count == real.ambiguous_count == 1
    assert dry.rows() == real.rows()
    assert (
        [p.reason for p in dry.refused]
        == [p.reason for p in real.refused]
        == ["its patient Patient/pat-1-again waits for the front desk to match it"]
    )
    assert PatientProfile.objects.count() == 1


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("two_with_the_phone", "several records share its name, birth date and phone"),
        ("another_phone", "a record with its name and birth date has another phone number"),
    ],
)
def test_an_ambiguous_match_is_listed_for_the_front_desk_and_nothing_is_merged(
    ehr, register, setup, reason
):
    if setup == "two_with_the_phone":
        candidates = {_desk_patient(register), _desk_patient(register)}
    else:
        candidates = {_desk_patient(register, phone="(617) 555-0188")}
    before = {pid: len(eventstore.read_stream(pid)) for pid in candidates}

    summary = ehr(b.patient(), b.encounter())

    assert summary.ambiguous_count == 1
    assert reason in summary.ambiguous[0].reason
    assert summary.imported == {}
    # The table's columns add up: the patient is counted where it went, "to match".
    assert [row for row in summary.rows() if row[0] in ("Patient", "Encounter")] == [
        ("Encounter", 1, 0, 0, 0, 1, 0),
        ("Patient", 1, 0, 0, 0, 0, 1),
    ]
    assert "to match" in table(summary).splitlines()[0]
    assert "its patient Patient/pat-1 waits for the front desk" in summary.refused[0].reason
    assert {pid: len(eventstore.read_stream(pid)) for pid in candidates} == before
    assert PatientProfile.objects.count() == len(candidates)
    [review] = EhrMatchReview.objects.all()
    assert (review.resource, review.name, review.decision) == (
        "Patient/pat-1",
        "Avery Testpatient",
        MatchDecision.PENDING,
    )
    assert set(review.candidates) == {str(c) for c in candidates}


def test_a_record_without_phone_is_not_matched_on_name_and_birth_date_alone(ehr, register):
    _desk_patient(register)

    summary = ehr(b.patient(telecom=[]))

    assert "it gives no phone to confirm" in summary.ambiguous[0].reason


def test_the_next_import_follows_the_front_desks_decision(ehr, register):
    first, second = _desk_patient(register), _desk_patient(register)
    ehr(b.patient(), b.encounter())
    review = EhrMatchReview.objects.get()
    review.decision, review.linked_patient_id = MatchDecision.LINK, second
    review.save()

    summary = ehr(b.patient(), b.encounter())

    assert summary.imported == {"Patient": 1, "Encounter": 1}
    assert [e.event_type for e in eventstore.read_stream(first)] == ["PatientRegistered"]
    assert eventstore.read_stream(second)[-1].event_type == "AppointmentCompleted"
    review.refresh_from_db()
    assert review.imported_patient_id == second


def test_a_new_person_by_the_desks_decision_is_registered_on_their_own(ehr, register):
    _desk_patient(register, phone="(617) 555-0188")
    ehr(b.patient())
    EhrMatchReview.objects.update(decision=MatchDecision.NEW)

    ehr(b.patient())

    assert PatientProfile.objects.count() == 2
    assert PatientProfile.objects.filter(
        patient_id=new_patient_id(SOURCE, "Patient/pat-1")
    ).exists()


def test_another_ehr_patient_of_the_same_name_and_birthday_is_someone_else(ehr):
    ehr(b.patient())

    ehr(b.patient("pat-2", identifier=[{"system": b.MRN_SYSTEM, "value": "MRN-pat-2"}]))

    assert PatientProfile.objects.count() == 2
    assert EhrMatchReview.objects.count() == 0


def test_a_reused_mrn_never_moves_to_another_patient(ehr, register):
    ehr(b.patient())
    avery = new_patient_id(SOURCE, "Patient/pat-1")
    other = register(
        first_name="Jordan",
        last_name="Else",
        date_of_birth=dt.date(1990, 1, 1),
        phone="(617) 555-0190",
    )
    jordan = b.patient(
        "pat-9",
        name=[{"use": "official", "family": "Else", "given": ["Jordan"]}],
        birthDate="1990-01-01",
        telecom=[{"system": "phone", "value": "(617) 555-0190"}],
        identifier=[{"system": b.MRN_SYSTEM, "value": "MRN-pat-1"}],
    )

    summary = ehr(jordan)

    assert summary.ambiguous_count == 1
    assert not PatientIdentifier.objects.filter(patient_id=other).exists()
    assert PatientProfile.objects.get(patient_id=avery).first_name == "Avery"
