"""Each mapping rule of docs/fhir.md, one FHIR R4 fixture each: what a resource becomes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crm.domain import events as ev
from crm.fhir import mapping
from crm.fhir.resources import Refused, Skipped, validate
from tests.fhir import builders as b

V2_CLASS = "http://terminology.hl7.org/CodeSystem/v2-0004"
EHR_CLASS = "urn:oid:1.2.840.114350.1.72.1.7.7.10.696784.13260"  # an EHR's own classes
CONTEXT = mapping.Context(
    source="https://ehr.example/fhir", region="US", zone=zoneinfo.ZoneInfo("America/New_York")
)


def _patient(**overrides):
    raw = b.patient(**overrides)
    return mapping.patient(validate(raw), f"Patient/{raw['id']}", CONTEXT)


def _encounter(**overrides):
    raw = b.encounter(**overrides)
    return mapping.encounter(validate(raw), f"Encounter/{raw['id']}", CONTEXT)


def _appointment(**overrides):
    raw = b.appointment(**overrides)
    return mapping.appointment(validate(raw), f"Appointment/{raw['id']}", CONTEXT)


# --- Patient ----------------------------------------------------------------------------


def test_a_patient_brings_names_birth_date_phone_email_and_language():
    record = _patient()

    assert (record.first_name, record.last_name, record.preferred_name) == (
        "Avery",
        "Testpatient",
        "Ave",
    )
    assert record.date_of_birth == dt.date(1980, 4, 12)
    assert record.phone == "+16175550134"
    assert record.email == "avery@example.org"
    assert record.language == "es"  # the primary subtag of es-MX
    assert not record.deceased


def test_the_mrn_and_the_ehrs_own_id_are_kept_as_identifiers():
    record = _patient()

    assert ("https://ehr.example/fhir", "Patient/pat-1", "RI") in record.identifiers
    assert (b.MRN_SYSTEM, "MRN-pat-1", "MR") in record.identifiers


def test_government_numbers_are_not_kept_only_the_ehrs_own():
    # As Synthea and US Core exports write a patient: MRN beside SSN, driver's license and
    # passport numbers. The CRM keeps the MRN and the EHR's ids, none of the others.
    v2 = "http://terminology.hl7.org/CodeSystem/v2-0203"

    def typed(code, system, value):
        return {
            "type": {"coding": [{"system": v2, "code": code}]},
            "system": system,
            "value": value,
        }

    record = _patient(
        identifier=[
            {"system": "https://github.com/synthetichealth/synthea", "value": "4c7d0e2a"},
            typed("MR", "http://hospital.example.org", "4c7d0e2a"),
            typed("SS", "http://hl7.org/fhir/sid/us-ssn", "999-01-0123"),
            {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "999-01-0124"},  # SSN, untyped
            typed("DL", "urn:oid:2.16.840.1.113883.4.3.25", "S99901234"),
            typed("PPN", "http://standardhealthrecord.org/fhir/passportNumber", "X1234567X"),
            typed("MC", "http://hl7.org/fhir/sid/us-mbi", "1EG4TE5MK73"),
            # The pre-R4 URI of the type table, and a type given only in words.
            {
                "type": {"coding": [{"system": "http://hl7.org/fhir/v2/0203", "code": "SS"}]},
                "system": "urn:oid:2.16.840.1.113883.4.999",
                "value": "999-01-0125",
            },
            {"type": {"text": "SSN"}, "system": "urn:oid:1.2.840.114350.1.1", "value": "9990126"},
        ]
    )

    assert {value for _, value, _ in record.identifiers} == {"Patient/pat-1", "4c7d0e2a"}
    assert ("http://hospital.example.org", "4c7d0e2a", "MR") in record.identifiers


def test_a_mobile_number_wins_over_home_and_an_unparseable_one_is_reported_not_stored():
    record = _patient(
        telecom=[
            {"system": "phone", "value": "617-555-0199", "use": "home"},
            {"system": "phone", "value": "call the front desk", "use": "work"},
            {"system": "phone", "value": "(617) 555-0142", "use": "mobile"},
            {"system": "phone", "value": "617 555 0100", "use": "old"},
        ]
    )

    assert record.phone == "+16175550142"
    assert record.warnings == ("telecom 'call the front desk' is not a phone number; not stored",)


def test_a_patient_with_thousands_of_bad_telecoms_gets_a_few_warnings_and_a_count():
    telecom = [{"system": "phone", "value": f"ext {i}"} for i in range(10_000)]
    telecom.append({"system": "phone", "value": "(617) 555-0134", "use": "mobile"})

    record = _patient(telecom=telecom)

    assert record.phone == "+16175550134"
    assert len(record.warnings) == mapping.MAX_WARNINGS + 1
    assert record.warnings[0] == "telecom 'ext 0' is not a phone number; not stored"
    assert record.warnings[-1] == "and 9,995 more like these; not stored"


@pytest.mark.parametrize("partial", ["1989", "1989-05"])
def test_a_death_known_only_by_year_or_month_is_a_death_without_a_date(partial):
    record = _patient(deceasedDateTime=partial)

    assert (record.deceased, record.date_of_death) == (True, None)
    assert record.warnings == (
        f"deceasedDateTime {partial!r} names no day; deceased, date not recorded",
    )


@pytest.mark.parametrize(
    "language",
    [
        {"coding": [{"system": "urn:iso:std:iso:639-2", "code": "spa"}]},
        {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-419"}]},
        {"text": "Spanish"},
        {"coding": [{"system": "http://ehr.example/languages", "code": "8", "display": "Spanish"}]},
    ],
)
def test_a_language_in_three_letters_or_by_name_is_stored_as_bcp47(language):
    record = _patient(communication=[{"language": language, "preferred": True}])

    assert (record.language, record.warnings) == ("es", ())


def test_a_name_written_only_as_text_gives_the_first_and_last_words():
    record = _patient(name=[{"use": "official", "text": "Avery Q. Testpatient"}])

    assert (record.first_name, record.last_name) == ("Avery", "Testpatient")


def test_a_record_the_ehr_merged_into_another_is_skipped_not_a_second_patient():
    merged = {"other": {"reference": "Patient/pat-2"}, "type": "replaced-by"}

    with pytest.raises(Skipped, match=r"replaced by another record \(merged in the EHR\)"):
        _patient(active=False, link=[merged])
    # The surviving record, which says it replaces the other, is the patient.
    survivor = _patient(link=[{"other": {"reference": "Patient/pat-0"}, "type": "replaces"}])
    assert survivor.last_name == "Testpatient"


def test_a_name_written_family_comma_given_is_read_that_way():
    record = _patient(name=[{"use": "official", "text": "TESTPATIENT, AVERY Q"}])

    assert (record.first_name, record.last_name) == ("Avery", "Testpatient")


ABSENT = {
    "extension": [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
            "valueCode": "unknown",
        }
    ]
}


def test_a_given_name_held_by_a_null_is_passed_over_for_the_one_written():
    # R4 JSON: a null in a primitive list, its `_given` sibling saying why it is absent.
    name = {"use": "official", "family": "Testpatient", "given": [None, "Avery"]}
    record = _patient(name=[{**name, "_given": [ABSENT, None]}])

    assert (record.first_name, record.last_name) == ("Avery", "Testpatient")
    blank = _patient(name=[{"use": "official", "family": "Testpatient", "given": [" ", "Avery"]}])
    assert blank.first_name == "Avery"


def test_a_name_whose_only_given_name_is_absent_is_refused_not_stored_blank():
    absent = {"use": "official", "family": "Testpatient", "given": [None], "_given": [ABSENT]}

    with pytest.raises(Refused, match="has no name with a family name and a given name"):
        _patient(name=[absent])
    # The name as written, where the EHR also sends it, still names the patient.
    written = _patient(name=[{**absent, "text": "Avery Testpatient"}])
    assert (written.first_name, written.last_name) == ("Avery", "Testpatient")


def test_a_name_in_capitals_is_written_as_a_person_writes_it():
    record = _patient(
        name=[
            {"use": "official", "family": "O'KEEFE-TESTPATIENT", "given": ["AVERY"]},
            {"use": "nickname", "given": ["AJ"]},
        ]
    )

    assert (record.first_name, record.last_name, record.preferred_name) == (
        "Avery",
        "O'Keefe-Testpatient",
        "AJ",  # initials stay initials
    )
    assert _patient().last_name == "Testpatient"  # a name in mixed case is kept as written


def test_the_address_gives_the_zone_where_the_phone_names_none():
    no_phone = _patient(telecom=[], address=[{"use": "home", "state": "CO", "country": "US"}])
    local_phone = _patient(address=[{"use": "home", "state": "CO"}])

    assert no_phone.timezone == "America/Denver"
    assert local_phone.timezone == ""  # a 617 number says Eastern: the profile derives it


def test_a_patient_with_a_date_of_death_is_deceased_on_that_day():
    record = _patient(deceasedDateTime="2024-02-10T08:30:00-05:00")
    flag_only = _patient(deceasedBoolean=True)

    assert (record.deceased, record.date_of_death) == (True, dt.date(2024, 2, 10))
    assert (flag_only.deceased, flag_only.date_of_death) == (True, None)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"birthDate": "1980"}, "birthDate 1980 is not a full date"),
        ({"name": [{"use": "official", "given": ["Avery"]}]}, "has no name with a family name"),
    ],
)
def test_a_patient_the_crm_cannot_hold_is_refused_with_the_reason(overrides, reason):
    with pytest.raises(Refused, match=reason):
        _patient(**overrides)


def test_a_patient_without_birth_date_is_refused():
    raw = b.patient()
    del raw["birthDate"]
    with pytest.raises(Refused, match="has no birthDate"):
        mapping.patient(validate(raw), "Patient/pat-1", CONTEXT)


# --- Encounter --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "kind"),
    [
        (b.SNOMED, "185349003", ev.AppointmentType.ANNUAL_WELLNESS),  # check up
        (b.CPT, "99396", ev.AppointmentType.ANNUAL_WELLNESS),  # preventive, established
        (
            "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
            "G0439",
            ev.AppointmentType.ANNUAL_WELLNESS,
        ),
        (b.CPT, "99203", ev.AppointmentType.NEW_PATIENT),
        (b.CPT, "99213", ev.AppointmentType.FOLLOW_UP),
        (b.SNOMED, "390906007", ev.AppointmentType.FOLLOW_UP),
        (b.CPT, "90837", ev.AppointmentType.THERAPY),
        (b.SNOMED, "75516001", ev.AppointmentType.THERAPY),
        (b.CPT, "90791", ev.AppointmentType.PSYCHIATRY),
        (b.SNOMED, "79094001", ev.AppointmentType.PSYCHIATRY),
        (b.CPT, "36415", ev.AppointmentType.TEST),
        ("urn:example:local", "OV", ev.AppointmentType.FOLLOW_UP),  # no code we know
    ],
)
def test_a_finished_encounter_is_a_completed_visit_of_its_coded_type(system, code, kind):
    record = _encounter(type=[{"coding": [{"system": system, "code": code}]}])

    assert isinstance(record, mapping.VisitRecord)
    assert record.status == "completed"
    assert record.appointment_type is kind
    assert record.starts_at == dt.datetime(2025, 3, 4, 14, 0, tzinfo=dt.UTC)
    assert record.duration_minutes == 40
    assert (record.provider, record.location) == ("Dr. Example Provider", "Main Street Clinic")


def test_a_telephone_encounter_is_a_call():
    record = _encounter(
        **{
            "class": {"system": b.ACT, "code": "VR"},
            "type": [{"coding": [{"system": b.SNOMED, "code": "185317003"}], "text": "Phone call"}],
            "period": {"start": "2025-03-04T14:00:00Z", "end": "2025-03-04T14:12:30Z"},
        }
    )

    assert isinstance(record, mapping.CallRecord)
    assert record.duration_seconds == 750
    assert record.reason == "Phone call"


def test_a_virtual_encounter_that_is_not_a_phone_call_is_a_telehealth_visit():
    record = _encounter(**{"class": {"system": b.ACT, "code": "VR"}})

    assert isinstance(record, mapping.VisitRecord)
    assert record.modality is ev.Modality.TELEHEALTH


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"class": {"system": b.ACT, "code": "EMER"}}, "an emergency visit"),
        ({"class": {"system": b.ACT, "code": "IMP"}}, "an inpatient stay"),
        ({"status": "planned"}, "not over yet"),
        ({"status": "in-progress"}, "not over yet"),
        # HL7 v2 patient class (table 0004), as exports translated from v2 feeds write it.
        ({"class": {"system": V2_CLASS, "code": "E"}}, "an emergency visit"),
        ({"class": {"system": V2_CLASS, "code": "I", "display": "Inpatient"}}, "an inpatient"),
        # An EHR's own patient classes, by what their display says.
        ({"class": {"system": EHR_CLASS, "code": "1", "display": "Inpatient"}}, "an inpatient"),
        ({"class": {"system": EHR_CLASS, "code": "3", "display": "Emergency"}}, "an emergency"),
    ],
)
def test_encounters_that_are_no_clinic_visit_are_skipped(overrides, reason):
    with pytest.raises(Skipped, match=reason):
        _encounter(**overrides)


@pytest.mark.parametrize(
    "klass",
    [
        {"system": V2_CLASS, "code": "O", "display": "Outpatient"},
        # An EHR's own patient-class code system: its codes are not ActCode's.
        {"system": EHR_CLASS, "code": "5"},
        {"system": EHR_CLASS, "code": "13", "display": "Support OP Encounter"},
    ],
)
def test_an_outpatient_or_locally_coded_class_is_an_in_person_visit(klass):
    record = _encounter(**{"class": klass})

    assert isinstance(record, mapping.VisitRecord)
    assert (record.status, record.modality) == ("completed", ev.Modality.IN_PERSON)


LOCAL_TYPES = "urn:oid:1.2.840.114350.1.13.0.1.7.10.698084.30"  # an EHR's own visit types


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("Annual Physical", ev.AppointmentType.ANNUAL_WELLNESS),
        ("Well Child", ev.AppointmentType.ANNUAL_WELLNESS),
        ("Medicare Wellness Visit", ev.AppointmentType.ANNUAL_WELLNESS),
        ("New Patient Visit", ev.AppointmentType.NEW_PATIENT),
        ("Follow-Up after annual physical", ev.AppointmentType.FOLLOW_UP),
        ("Psychotherapy 45 min", ev.AppointmentType.THERAPY),
        ("Office Visit", ev.AppointmentType.FOLLOW_UP),
    ],
)
def test_a_locally_coded_visit_type_is_read_by_its_words(said, kind):
    concept = {"coding": [{"system": LOCAL_TYPES, "code": "101", "display": said}]}

    encounter = _encounter(type=[concept])
    appointment = _appointment(appointmentType={**concept, "text": said})

    assert (encounter.appointment_type, appointment.appointment_type) == (kind, kind)


def test_a_locally_coded_telephone_encounter_is_a_call():
    record = _encounter(
        type=[{"coding": [{"system": LOCAL_TYPES, "code": "7"}], "text": "Telephone"}]
    )

    assert isinstance(record, mapping.CallRecord)


def test_a_coded_kind_wins_over_the_words():
    record = _encounter(
        type=[
            {
                "coding": [{"system": b.SNOMED, "code": "390906007"}],
                "text": "Telephone follow-up of annual physical",
            }
        ]
    )

    assert isinstance(record, mapping.VisitRecord)
    assert record.appointment_type is ev.AppointmentType.FOLLOW_UP


def test_cancelled_and_entered_in_error_encounters_are_not_completed_visits():
    assert _encounter(status="cancelled").status == "cancelled"
    assert _encounter(status="entered-in-error").status == "entered_in_error"


def test_an_encounter_of_an_appointment_completes_that_appointments_visit():
    record = _encounter(appointment=[{"reference": "Appointment/apt-1"}])
    booked = _appointment()

    assert record.appointment_id == booked.appointment_id


# --- Appointment ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "mapped"),
    [
        ("booked", "scheduled"),
        ("pending", "scheduled"),
        ("arrived", "scheduled"),
        ("checked-in", "scheduled"),
        ("fulfilled", "completed"),
        ("cancelled", "cancelled"),
        ("noshow", "no_show"),
        ("entered-in-error", "entered_in_error"),
    ],
)
def test_appointment_statuses(status, mapped):
    assert _appointment(status=status).status == mapped


@pytest.mark.parametrize("status", ["proposed", "waitlist"])
def test_an_appointment_not_booked_is_skipped(status):
    with pytest.raises(Skipped):
        _appointment(status=status)


def test_an_appointment_brings_its_type_time_provider_and_place():
    record = _appointment(
        appointmentType={
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "CHECKUP"}
            ]
        },
        minutesDuration=45,
    )

    assert record.appointment_type is ev.AppointmentType.ANNUAL_WELLNESS
    assert record.starts_at == dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    assert record.duration_minutes == 45
    assert (record.provider, record.location) == ("Dr. Example Provider", "Main Street Clinic")
    assert record.booked_at == dt.datetime(2026, 10, 20, 12, 0, tzinfo=CONTEXT.zone)


def test_a_patients_cancellation_is_told_from_the_clinics():
    reason = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
    by_patient = _appointment(
        status="cancelled",
        cancelationReason={"coding": [{"system": reason, "code": "pat-crs"}], "text": "Sick"},
    )
    by_clinic = _appointment(
        status="cancelled", cancelationReason={"coding": [{"system": reason, "code": "prov"}]}
    )

    assert (by_patient.cancelled_by, by_patient.reason) == (ev.CancelledBy.PATIENT, "Sick")
    assert by_clinic.cancelled_by is ev.CancelledBy.CLINIC


def test_an_appointment_with_no_patient_is_refused():
    with pytest.raises(Refused, match="names no Patient"):
        _appointment(
            participant=[{"actor": {"reference": "Practitioner/pr-1"}, "status": "accepted"}]
        )


def test_a_booked_appointment_without_a_start_is_refused():
    raw = b.appointment()
    del raw["start"], raw["end"]
    with pytest.raises(Refused, match="without a start"):
        mapping.appointment(validate(raw), "Appointment/apt-1", CONTEXT)


def test_references_resolve_absolute_history_and_bundle_urn_forms():
    absolute = _encounter(
        subject={"reference": "https://ehr.example/fhir/Patient/pat-9/_history/3"}
    )
    context = mapping.Context(
        source=CONTEXT.source,
        region="US",
        zone=CONTEXT.zone,
        full_urls={"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a": ("Patient", "Patient/pat-7")},
    )
    raw = b.encounter(subject={"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"})
    by_urn = mapping.encounter(validate(raw), "Encounter/enc-1", context)

    assert absolute.patient == "Patient/pat-9"
    assert by_urn.patient == "Patient/pat-7"
