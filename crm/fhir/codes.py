"""The code systems and codes the import maps (the tables in docs/fhir.md): which encounter
or appointment is which kind of visit, which is a telephone call, which is no clinic visit."""

from __future__ import annotations

import re

from crm.domain import events as ev

SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
# HCPCS Level II, as HL7 terminology names it (older exports write https or the OID).
HCPCS = (
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "urn:oid:2.16.840.1.113883.6.285",
)
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"  # Encounter.class
APPOINTMENT_REASON = "http://terminology.hl7.org/CodeSystem/v2-0276"  # Appointment.appointmentType
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"  # Identifier.type (MR)
IDENTIFIER_TYPES = (IDENTIFIER_TYPE, "http://hl7.org/fhir/v2/0203")  # and its pre-R4 URI
CANCELLATION_REASON = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
LANGUAGE = "urn:ietf:bcp:47"
# Identifiers the CRM does not keep: a patient's government and financial numbers (HL7
# v2-0203 types SS social security, DL driver's license, PPN passport, NI/NIIP/NNxxx
# national, TAX, MA/MC Medicaid/Medicare, BA/BC/CC bank and credit cards; the SSN systems).
# The clinic reaches and matches its patients by the EHR's own numbers (MRN), nothing else.
SENSITIVE_IDENTIFIER_TYPES = frozenset(
    {"SS", "SSN", "DL", "PPN", "NI", "NIIP", "NN", "TAX", "MA", "MC", "BA", "BC", "CC"}
)
SENSITIVE_IDENTIFIER_SYSTEMS = frozenset(
    {
        "http://hl7.org/fhir/sid/us-ssn",
        "urn:oid:2.16.840.1.113883.4.1",  # US SSN
        "http://hl7.org/fhir/sid/us-medicare",
        "http://hl7.org/fhir/sid/us-mbi",
    }
)
# Driver's licenses: one OID per state under this arc (urn:oid:2.16.840.1.113883.4.3.25).
DRIVERS_LICENSE_ARC = "urn:oid:2.16.840.1.113883.4.3."

Visit = ev.AppointmentType

# Kinds of visit by code, first match wins in the order of a resource's codings. Sources:
# the eCQM value sets (Annual Wellness Visit 2.16.840.1.113883.3.526.3.1240, Preventive Care
# Services, Office Visit 2.16.840.1.113883.3.464.1003.101.12.1001, Psych Visit - Diagnostic
# Evaluation ...3.526.3.1492, Psych Visit - Psychotherapy ...3.526.3.1496, Family
# Psychotherapy ...3.526.3.1018) and HL7 v2 table 0276 (appointment reason codes).
_VISITS: dict[Visit, dict[str, frozenset[str]]] = {
    Visit.ANNUAL_WELLNESS: {
        SNOMED: frozenset(
            {
                "185349003",  # Encounter for check up
                "162673000",  # General examination of patient
                "410620009",  # Well child visit
                "444971000124105",  # Annual wellness visit
                "456201000124103",  # Medicare annual wellness visit
                "86013001",  # Periodic reevaluation and management of healthy individual
                "866149003",  # Annual visit
                "90526000",  # Initial evaluation and management of healthy individual
            }
        ),
        CPT: frozenset(
            # Preventive medicine, new patient (99381-99387) and established (99391-99397).
            {f"9938{n}" for n in range(1, 8)} | {f"9939{n}" for n in range(1, 8)}
        ),
        "hcpcs": frozenset({"G0402", "G0438", "G0439"}),  # Welcome to Medicare, AWV
        APPOINTMENT_REASON: frozenset({"CHECKUP"}),
    },
    Visit.NEW_PATIENT: {
        # Office visit, new patient (99201 until 2021, then 99202-99205).
        CPT: frozenset({"99201", "99202", "99203", "99204", "99205"}),
    },
    Visit.PSYCHIATRY: {
        SNOMED: frozenset(
            {
                "10197000",  # Psychiatric interview and evaluation
                "165172002",  # Diagnostic psychiatric interview
                "68338001",  # Interactive medical psychiatric diagnostic interview
                "79094001",  # Initial psychiatric interview with mental status and evaluation
            }
        ),
        CPT: frozenset({"90791", "90792"}),  # Psychiatric diagnostic evaluation
    },
    Visit.THERAPY: {
        SNOMED: frozenset(
            {
                "18512000",  # Individual psychotherapy
                "75516001",  # Psychotherapy
                "183381005",  # General psychotherapy
                "108313002",  # Family psychotherapy procedure
            }
        ),
        # Psychotherapy 30/45/60 minutes, family psychotherapy, group psychotherapy.
        CPT: frozenset({"90832", "90834", "90837", "90846", "90847", "90853"}),
    },
    Visit.TEST: {
        SNOMED: frozenset({"108252007"}),  # Laboratory procedure
        CPT: frozenset({"36415"}),  # Collection of venous blood by venipuncture
    },
    Visit.FOLLOW_UP: {
        SNOMED: frozenset(
            {
                "390906007",  # Follow-up encounter
                "185389009",  # Follow-up visit
                "439740005",  # Postoperative follow-up visit
            }
        ),
        # Office visit, established patient.
        CPT: frozenset({"99211", "99212", "99213", "99214", "99215"}),
        APPOINTMENT_REASON: frozenset({"FOLLOWUP", "ROUTINE"}),
    },
}

# Telephone encounters: logged calls, not visits (eCQM Telephone Visits,
# 2.16.840.1.113883.3.464.1003.101.12.1080).
TELEPHONE: dict[str, frozenset[str]] = {
    SNOMED: frozenset(
        {
            "185317003",  # Telephone encounter
            "314849005",  # Telephone contact by consultant
            "386472008",  # Telephone consultation
            "386473003",  # Telephone follow-up
            "401267002",  # Telephone triage encounter
        }
    ),
    # Telephone evaluation and management by a physician (99441-99443) or another
    # qualified professional (98966-98968).
    CPT: frozenset({"99441", "99442", "99443", "98966", "98967", "98968"}),
}

# Encounter.class (v3 ActCode): the ones that are a clinic's visit, and how it was held.
# VR is "virtual": telephone, video or email; a telephone code above makes it a call.
CLINIC_CLASSES: dict[str, ev.Modality] = {
    "AMB": ev.Modality.IN_PERSON,  # ambulatory
    "HH": ev.Modality.IN_PERSON,  # home health
    "VR": ev.Modality.TELEHEALTH,  # virtual
}
NOT_CLINIC_CLASSES = {
    "IMP": "an inpatient stay",
    "ACUTE": "an inpatient acute stay",
    "NONAC": "an inpatient non-acute stay",
    "EMER": "an emergency visit",
    "OBSENC": "an observation stay",
    "PRENC": "a pre-admission",
    "SS": "a short stay",
    "FLD": "a field visit",
}


# HL7 v2 table 0004 (Patient Class), which exports translated from HL7 v2 feeds write in
# Encounter.class: its codes as the v3 ActCode class they mean.
PATIENT_CLASS = "http://terminology.hl7.org/CodeSystem/v2-0004"
_PATIENT_CLASS_AS_ACT = {
    "E": "EMER",  # emergency
    "I": "IMP",  # inpatient
    "B": "IMP",  # obstetrics (admitted)
    "P": "PRENC",  # preadmit
    "O": "AMB",  # outpatient
    "R": "AMB",  # recurring patient
}


_CLASS_WORDS = (
    ("EMER", re.compile(r"\bemergency\b", re.I)),
    ("OBSENC", re.compile(r"\bobservation\b", re.I)),
    ("IMP", re.compile(r"\b(?:inpatient|hospital admission|admitted)\b", re.I)),
)


def encounter_class(system: str | None, code: str | None, display: str = "") -> str | None:
    """Encounter.class as a v3 ActCode code: as written (ActCode, or no system), the ActCode
    a v2-0004 patient class means, or for an EHR's own code its display's words
    ("Inpatient", "Emergency"); None when nothing says."""
    if system in (None, "", ACT_CODE, "http://hl7.org/fhir/v3/ActCode"):
        return code or None
    if system in (PATIENT_CLASS, "http://hl7.org/fhir/v2/0004"):
        return _PATIENT_CLASS_AS_ACT.get(code or "")
    return next((act for act, words in _CLASS_WORDS if words.search(display)), None)


def _system(system: str) -> str:
    return "hcpcs" if system in HCPCS else system


def visit_kind(codings: list[tuple[str, str]]) -> Visit | None:
    """The kind of visit the first coding we know names, or None."""
    for system, code in codings:
        for kind, table in _VISITS.items():
            if code in table.get(_system(system), ()):
                return kind
    return None


def is_telephone(codings: list[tuple[str, str]], said: str = "") -> bool:
    """A telephone code, or where no code we know names the kind, "telephone" in words."""
    if any(code in TELEPHONE.get(system, ()) for system, code in codings):
        return True
    return visit_kind(codings) is None and bool(_TELEPHONE_WORDS.search(said))


# Where an EHR codes its visit types in a system of its own (Epic's and Cerner's local code
# sets), the words it gives them (CodeableConcept.text, Coding.display) name the kind. Read
# only when no code above matched; first match in this order.
_KIND_WORDS: tuple[tuple[Visit, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (Visit.NEW_PATIENT, r"\bnew patient\b"),
        (Visit.FOLLOW_UP, r"\bfollow[- ]?up\b"),
        (Visit.PSYCHIATRY, r"\bpsychiatr"),
        (Visit.THERAPY, r"\bpsychotherap"),
        (
            Visit.ANNUAL_WELLNESS,
            r"\bwell(?:ness|[- ]child| visit)\b|\bannual (?:physical|exam|visit)"
            r"|\bpreventive\b|\bphysical exam|\bcheck[- ]?up\b",
        ),
        (Visit.TEST, r"\blab(?:oratory)?\b|\bblood draw\b|\bvenipuncture\b"),
    )
)
_TELEPHONE_WORDS = re.compile(r"\btele(?:phone)?\b|\bphone (?:call|visit|encounter)\b", re.I)


def kind_in_words(said: str) -> Visit | None:
    """The kind of visit the words of an EHR's own visit type name, or None."""
    return next((kind for kind, pattern in _KIND_WORDS if pattern.search(said)), None)


def cancelled_by(codings: list[tuple[str, str]]) -> ev.CancelledBy:
    """Who cancelled, from Appointment.cancelationReason: the patient for the pat* codes,
    the clinic for every other (prov*, maint, meds-inc, oth*) or none given."""
    for system, code in codings:
        if system == CANCELLATION_REASON and code.startswith("pat"):
            return ev.CancelledBy.PATIENT
    return ev.CancelledBy.CLINIC
