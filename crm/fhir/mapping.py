"""From a validated FHIR R4 resource to what the CRM records of it: a patient's details, a
visit, or a telephone call (docs/fhir.md has the tables)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from crm.domain import events as ev
from crm.domain.errors import InvalidInput
from crm.domain.languages import LANGUAGES
from crm.domain.phones import normalize_phone, timezone_for_phone
from crm.fhir import codes
from crm.fhir.resources import (
    Refused,
    Skipped,
    codings,
    label,
    local_reference,
    moment,
    patient_reference,
    words,
)
from crm.fhir.zones import zone_for_address

# Visits and calls are named by uuid5 of the source and the resource, so every import of
# the same record names the same appointment, whichever file or server page brought it.
NAMESPACE = uuid.UUID("0b6c2a9e-5f0d-4d7e-9a51-6f3c8e2d4b17")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_].*)?$")
# ISO 639-2 (bibliographic and terminology) and 639-3 codes of the languages the clinic
# offers, as BCP-47 writes them: R4 binds communication.language to BCP-47, some EHRs send
# the three letters.
_THREE_LETTER = {
    "eng": "en", "spa": "es", "por": "pt", "hat": "ht", "zho": "zh", "chi": "zh",
    "cmn": "zh", "yue": "zh", "vie": "vi", "rus": "ru", "ara": "ar", "fra": "fr", "fre": "fr",
}  # fmt: skip
_BY_NAME = {name.casefold(): code for code, name in LANGUAGES}
_NAME_ORDER = {"official": 0, "usual": 1, None: 2, "temp": 3, "nickname": 4, "maiden": 5}
_PHONE_ORDER = {"mobile": 0, None: 1, "home": 2, "work": 3, "temp": 4}
DEFAULT_MINUTES = 30
MAX_WARNINGS = 5  # per resource
# A visit names its provider and place; an EHR record that names neither says so in words.
NOT_NAMED = "not named in the EHR"


@dataclass(frozen=True, slots=True)
class Context:
    """What the mapping needs beside the resource."""

    source: str  # the EHR (server base URL or --source): identifiers are named in it
    region: str  # phonenumbers' default region (PHONE_DEFAULT_REGION)
    zone: dt.tzinfo  # the clinic's zone, for a date without a time
    full_urls: dict[str, tuple[str, str]] = field(default_factory=dict)

    def visit_id(self, key: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{self.source}|{key}")


@dataclass(frozen=True, slots=True)
class PatientRecord:
    key: str
    first_name: str
    last_name: str
    preferred_name: str
    date_of_birth: dt.date
    phone: str | None
    email: str
    language: str | None  # None when the EHR names none
    timezone: str  # from the address, only where the phone names no single zone
    deceased: bool
    date_of_death: dt.date | None
    deceased_at: dt.datetime | None  # when, if the EHR says
    identifiers: tuple[tuple[str, str, str], ...]  # (system, value, kind)
    warnings: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """An appointment or encounter as a visit: its status in the CRM's words."""

    key: str
    patient: str  # "Patient/id"
    appointment_id: uuid.UUID
    status: str  # scheduled, completed, cancelled, no_show, entered_in_error
    appointment_type: ev.AppointmentType
    modality: ev.Modality
    starts_at: dt.datetime | None
    duration_minutes: int
    provider: str
    location: str
    booked_at: dt.datetime | None = None  # Appointment.created
    updated_at: dt.datetime | None = None  # meta.lastUpdated
    cancelled_by: ev.CancelledBy = ev.CancelledBy.CLINIC
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A finished telephone encounter: a call the clinic logged."""

    key: str
    patient: str
    call_id: uuid.UUID
    started_at: dt.datetime
    duration_seconds: int
    agent: str
    reason: str


# --- Patient -------------------------------------------------------------------------------


def patient(resource: Any, key: str, context: Context) -> PatientRecord:
    warnings: list[str] = []
    for link in resource.link or []:
        if link.type == "replaced-by":
            # The EHR merged this record into another: the surviving record is the patient.
            # (One reason for all, so the report counts them on one line.)
            raise Skipped("replaced by another record (merged in the EHR): not a patient")
    first, last, preferred = _names(resource)
    birth = resource.birthDate
    if birth is None:
        raise Refused("has no birthDate; the CRM needs a patient's date of birth")
    if not isinstance(birth, dt.date):
        raise Refused(f"birthDate {birth} is not a full date (year, month and day)")
    phone = _phone(resource, context, warnings)
    email = _email(resource, warnings)
    zone = ""
    if phone is None or timezone_for_phone(phone) is None:
        zone = _address_zone(resource)
    deceased, died_on, died_at = _death(resource, context, warnings)
    return PatientRecord(
        key=key,
        first_name=first,
        last_name=last,
        preferred_name=preferred,
        date_of_birth=birth,
        phone=phone,
        email=email,
        language=_language(resource, warnings),
        timezone=zone,
        deceased=deceased,
        date_of_death=died_on,
        deceased_at=died_at,
        identifiers=_identifiers(resource, key, context, warnings),
        warnings=_few(warnings),
    )


def _few(warnings: list[str]) -> tuple[str, ...]:
    """A resource's first warnings, and how many more: a record with thousands of bad
    telecoms is one line of the report, not thousands."""
    if len(warnings) <= MAX_WARNINGS:
        return tuple(warnings)
    more = len(warnings) - MAX_WARNINGS
    return (*warnings[:MAX_WARNINGS], f"and {more:,} more like these; not stored")


def _names(resource: Any) -> tuple[str, str, str]:
    names = sorted(
        (n for n in resource.name or [] if n.use not in ("old", "anonymous")),
        key=lambda n: _NAME_ORDER.get(n.use, 3),
    )
    main = next(
        (n for n in names if n.use != "nickname" and (n.family or "").strip() and _given(n)),
        None,
    )
    if main is not None:
        first, last = label(_given(main), 200), label(main.family, 200)
    else:
        first, last = _written_name(names)
    preferred = ""
    for other in names:
        given = _given(other)
        if other is not main and other.use in ("nickname", "usual") and given and given != first:
            preferred = label(given, 200)
            break
    return _cased(first), _cased(last), _cased(preferred)


def _given(name: Any) -> str:
    """The first given name written: R4 lets a list of given names hold a null, its
    `_given` extension saying why that one is absent (data-absent-reason)."""
    return next((given for given in name.given or [] if given and given.strip()), "")


def _written_name(names: list[Any]) -> tuple[str, str]:
    """Only the name as written, which R4 allows: "Avery Q. Testpatient" (first word given,
    last word family), or "TESTPATIENT, AVERY Q" (family, then given), as Cerner writes it."""
    for name in names:
        text = " ".join((name.text or "").split())
        family, comma, given = text.partition(",")
        if comma and family.strip() and given.split():
            return label(given.split()[0], 200), label(family.strip(), 200)
        words = text.split()
        if len(words) > 1:
            return label(words[0], 200), label(words[-1], 200)
    raise Refused("has no name with a family name and a given name")


def _cased(name: str) -> str:
    """A name the EHR keeps in capitals ("NANCY", "O'KEEFE-SMITH") as a person writes it
    ("Nancy", "O'Keefe-Smith"): texts greet the patient by it. Others are kept as written."""
    if len(name) <= 2 or not name.isupper():
        return name
    return re.sub(r"[^\W\d_]+", lambda word: word.group(0).capitalize(), name.lower())


def _phone(resource: Any, context: Context, warnings: list[str]) -> str | None:
    points = [
        t
        for t in resource.telecom or []
        if t.system in ("phone", "sms") and t.value and t.use != "old" and not _ended(t.period)
    ]
    points.sort(key=lambda t: (_PHONE_ORDER.get(t.use, 5), t.rank or 99))
    chosen: str | None = None
    for point in points:
        try:
            e164 = normalize_phone(point.value, region=context.region, field="telecom")
        except InvalidInput:
            warnings.append(f"telecom {point.value!r} is not a phone number; not stored")
            continue
        chosen = chosen or e164
    return chosen


def _email(resource: Any, warnings: list[str]) -> str:
    for point in resource.telecom or []:
        if point.system != "email" or not point.value or point.use == "old":
            continue
        address = point.value.strip()
        if _EMAIL.match(address) and len(address) <= 254:
            return str(address)
        warnings.append(f"telecom {address!r} is not an email address; not stored")
    return ""


def _language(resource: Any, warnings: list[str]) -> str | None:
    spoken = sorted(resource.communication or [], key=lambda c: not c.preferred)
    for communication in spoken:
        concept = communication.language
        tags = [c.code for c in concept.coding or [] if c.code] + [concept.text or ""]
        for tag in tags:
            found = _LANGUAGE.match(tag.strip())
            if found:
                primary = found.group(1).lower()
                # ISO 639-2/3 codes ("spa"), which BCP-47 writes in two letters ("es").
                return _THREE_LETTER.get(primary, primary)
        # Only words ("Spanish"): a language the clinic offers, by its name.
        for said in [concept.text or ""] + [c.display or "" for c in concept.coding or []]:
            code = _BY_NAME.get(said.strip().casefold())
            if code:
                return code
        warnings.append(f"language {words(concept) or tags!r} is not a BCP-47 tag; not stored")
    return None


def _address_zone(resource: Any) -> str:
    addresses = sorted(
        (a for a in resource.address or [] if a.use != "old" and not _ended(a.period)),
        key=lambda a: a.use != "home",
    )
    for address in addresses:
        zone = zone_for_address(address.state, address.country)
        if zone:
            return zone
    return ""


def _death(
    resource: Any, context: Context, warnings: list[str]
) -> tuple[bool, dt.date | None, dt.datetime | None]:
    died = resource.deceasedDateTime
    if isinstance(died, str):
        # A year, or a year and month: R4's dateTime allows it; the patient has died, on a
        # day the EHR does not know.
        warnings.append(f"deceasedDateTime {died!r} names no day; deceased, date not recorded")
        return True, None, None
    if died is not None:
        at = moment(died, "deceasedDateTime", context.zone)
        return True, at.astimezone(context.zone).date(), at
    return bool(resource.deceasedBoolean), None, None


def _identifiers(
    resource: Any, key: str, context: Context, warnings: list[str]
) -> tuple[tuple[str, str, str], ...]:
    found: list[tuple[str, str, str]] = []
    if key.startswith("Patient/"):
        # The EHR's own id of the record ("RI", resource identifier in HL7 v2-0203).
        found.append((label(context.source, 255), key, "RI"))
    for identifier in resource.identifier or []:
        if identifier.use == "old" or not identifier.system or not identifier.value:
            continue
        if len(identifier.system) > 255 or len(identifier.value) > 100:
            warnings.append(f"identifier {identifier.value[:40]!r} is too long; not kept")
            continue
        kind = next(
            (
                c.code
                for c in (identifier.type.coding if identifier.type else None) or []
                if c.system in codes.IDENTIFIER_TYPES and c.code
            ),
            "",
        )
        written = (identifier.type.text or "") if identifier.type else ""
        if _sensitive(identifier.system, kind) or _SENSITIVE_WORDS.search(written):
            continue
        found.append((identifier.system, identifier.value, label(kind, 20)))
    return tuple(dict.fromkeys(found))


# An identifier typed only in words ("type": {"text": "SSN"}), as some EHRs write it.
_SENSITIVE_WORDS = re.compile(
    r"^\s*(?:ssn|social security|driver'?s? licen[sc]e|passport|medicare|medicaid)", re.I
)


def _sensitive(system: str, kind: str) -> bool:
    """A government or financial number (SSN, driver's license, passport...): not kept."""
    return (
        kind.upper() in codes.SENSITIVE_IDENTIFIER_TYPES
        or (kind.upper().startswith("NN") and len(kind) == 5)  # NNxxx: national, by country
        or system in codes.SENSITIVE_IDENTIFIER_SYSTEMS
        or system.startswith(codes.DRIVERS_LICENSE_ARC)
    )


def _ended(period: Any) -> bool:
    end = getattr(period, "end", None) if period is not None else None
    if end is None:
        return False
    today = dt.datetime.now(dt.UTC)
    if isinstance(end, dt.datetime):
        return end < today
    return bool(end < today.date())


# --- Encounter -----------------------------------------------------------------------------


def encounter(resource: Any, key: str, context: Context) -> VisitRecord | CallRecord:
    patient = _subject(resource.subject, context)
    cls = resource.class_fhir
    klass = codes.encounter_class(cls.system, cls.code, cls.display or "") if cls else None
    coded = codings(resource.type, resource.serviceType)
    said = _said(resource.type, resource.serviceType)
    if klass in codes.NOT_CLINIC_CLASSES:
        raise Skipped(f"class {klass} is {codes.NOT_CLINIC_CLASSES[klass]}, not a clinic visit")
    status = resource.status
    if status in ("planned", "arrived", "triaged", "in-progress", "onleave", "unknown"):
        raise Skipped(f"status {status}: not over yet (imported once finished)")
    period = resource.period
    start = moment(period.start, "period.start", context.zone) if period and period.start else None
    end = moment(period.end, "period.end", context.zone) if period and period.end else None
    if codes.is_telephone(coded, said):
        if status != "finished":
            raise Skipped(f"a telephone encounter with status {status}: no call took place")
        if start is None:
            raise Refused("a finished telephone encounter without period.start")
        return CallRecord(
            key=key,
            patient=patient,
            call_id=context.visit_id(key),
            started_at=start,
            duration_seconds=_seconds(start, end, resource.length),
            agent=_provider(resource, 150) or "EHR",
            reason=words(resource.reasonCode, resource.type),
        )
    if status == "finished" and start is None:
        raise Refused("a finished encounter without period.start")
    linked = next(
        (
            ref
            for ref in (
                local_reference(a, context.full_urls, "Appointment")
                for a in resource.appointment or []
            )
            if ref
        ),
        None,
    )
    return VisitRecord(
        key=key,
        patient=patient,
        appointment_id=context.visit_id(linked or key),
        status={"finished": "completed", "cancelled": "cancelled"}.get(status, "entered_in_error"),
        appointment_type=_kind(coded, said),
        modality=codes.CLINIC_CLASSES.get(klass or "AMB", ev.Modality.IN_PERSON),
        starts_at=start,
        duration_minutes=_minutes(start, end, resource.length),
        provider=_provider(resource, 200) or NOT_NAMED,
        location=_location(resource) or NOT_NAMED,
        updated_at=_updated(resource),
        reason=words(resource.reasonCode),
    )


def _kind(coded: list[tuple[str, str]], said: str) -> ev.AppointmentType:
    """The kind of visit its codes name, else its words, else a follow-up (an established
    patient's office visit)."""
    return codes.visit_kind(coded) or codes.kind_in_words(said) or ev.AppointmentType.FOLLOW_UP


def _said(*concepts: Any) -> str:
    """Every text and display of these CodeableConcepts (or lists of them), one string."""
    found: list[str] = []
    for concept in concepts:
        for one in concept if isinstance(concept, list) else [concept]:
            if one is None:
                continue
            found += [one.text or ""] + [c.display or "" for c in one.coding or []]
    return " | ".join(t for t in found if t)


def _updated(resource: Any) -> dt.datetime | None:
    meta = resource.meta
    stamp = meta.lastUpdated if meta is not None else None
    return stamp if isinstance(stamp, dt.datetime) and stamp.tzinfo is not None else None


def _subject(reference: Any, context: Context) -> str:
    patient = patient_reference(reference, context.full_urls, typed=False)
    if patient is None:
        raise Refused("names no Patient (subject)")
    return patient


def _provider(resource: Any, limit: int) -> str:
    for participant in resource.participant or []:
        who = participant.individual
        if who is not None and who.display:
            return label(who.display, limit)
    return ""


def _location(resource: Any) -> str:
    for place in resource.location or []:
        if place.location is not None and place.location.display:
            return label(place.location.display, 200)
    provider = resource.serviceProvider
    return label(provider.display, 200) if provider is not None and provider.display else ""


def _minutes(start: dt.datetime | None, end: dt.datetime | None, length: Any) -> int:
    minutes = _seconds(start, end, length) // 60
    return minutes if 5 <= minutes <= 480 else DEFAULT_MINUTES


def _seconds(start: dt.datetime | None, end: dt.datetime | None, length: Any) -> int:
    if start is not None and end is not None and end >= start:
        return min(int((end - start).total_seconds()), 24 * 3600)
    if length is not None and length.value is not None:
        unit = {"s": 1, "min": 60, "h": 3600}.get(length.code or length.unit or "min", 60)
        return max(0, min(int(float(length.value) * unit), 24 * 3600))
    return 0


# --- Appointment ---------------------------------------------------------------------------

_APPOINTMENT_STATUS = {
    "booked": "scheduled",
    "pending": "scheduled",
    "arrived": "scheduled",
    "checked-in": "scheduled",
    "fulfilled": "completed",
    "cancelled": "cancelled",
    "noshow": "no_show",
    "entered-in-error": "entered_in_error",
}


def appointment(resource: Any, key: str, context: Context) -> VisitRecord:
    actors = [p.actor for p in resource.participant or [] if p.actor is not None]
    patient = next(
        (
            ref
            for ref in (patient_reference(a, context.full_urls, typed=True) for a in actors)
            if ref
        ),
        None,
    )
    if patient is None:
        raise Refused("names no Patient among its participants")
    status = _APPOINTMENT_STATUS.get(resource.status)
    if status is None:
        raise Skipped(f"status {resource.status}: not booked")
    start = moment(resource.start, "start", context.zone) if resource.start else None
    end = moment(resource.end, "end", context.zone) if resource.end else None
    if start is None and status != "cancelled":
        raise Refused(f"status {resource.status} without a start (R4 app-3)")
    minutes = resource.minutesDuration
    duration = minutes if minutes and 5 <= minutes <= 480 else _minutes(start, end, None)
    coded = codings(resource.appointmentType, resource.serviceType, resource.specialty)
    said = _said(resource.appointmentType, resource.serviceType)
    virtual = codes.is_telephone(coded, said) or any(c == (codes.ACT_CODE, "VR") for c in coded)
    people = [a.display for a in actors if a.reference and "Practitioner" in a.reference]
    places = [a.display for a in actors if a.reference and "Location" in a.reference]
    created = resource.created
    return VisitRecord(
        key=key,
        patient=patient,
        appointment_id=context.visit_id(key),
        status=status,
        appointment_type=_kind(coded, said),
        modality=ev.Modality.TELEHEALTH if virtual else ev.Modality.IN_PERSON,
        starts_at=start,
        duration_minutes=duration,
        provider=label(next((p for p in people if p), ""), 200) or NOT_NAMED,
        location=label(next((p for p in places if p), ""), 200) or NOT_NAMED,
        booked_at=moment(created, "created", context.zone) if created else None,
        updated_at=_updated(resource),
        cancelled_by=codes.cancelled_by(codings(resource.cancelationReason)),
        reason=words(resource.cancelationReason),
    )
