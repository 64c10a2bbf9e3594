"""FHIR R4 resources validated at the door with the `fhir.resources` models, and the small
readers the mapping shares: references, codings, times, versions."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

# fhir.resources 8 models FHIR R4B (4.3) beside R5; R4B's Patient, Encounter, Appointment
# and Bundle are R4's (4.0.1) element for element (Encounter.class a Coding, not R5's list),
# so an R4 resource validates as written (tests/fhir/test_parsing.py holds the spec's shapes).
MODELS: dict[str, Any] = {"Patient": Patient, "Encounter": Encounter, "Appointment": Appointment}

# The R4 value sets the models leave unchecked (a code is any string to them).
ENCOUNTER_STATUSES = frozenset(
    {
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
APPOINTMENT_STATUSES = frozenset(
    {
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    }
)
_MAX_REASON = 300


class Refused(Exception):
    """A resource that cannot be imported as it is, and why (in the report)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Skipped(Exception):
    """A valid resource that records nothing in the CRM (a planned encounter, an inpatient
    stay), and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validate(raw: dict[str, Any]) -> Any:
    """The resource as its R4 model, or Refused naming the first field that fails."""
    model = MODELS[raw["resourceType"]]
    try:
        resource = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"] if part != "root") or "resource"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise Refused(f"fails FHIR R4 validation at {where}: {first['msg']}{more}") from None
    except RecursionError:
        # Extensions inside extensions hundreds deep: no EHR writes that, and the models
        # recurse once per level.
        raise Refused("fails FHIR R4 validation: nested too deeply") from None
    status = getattr(resource, "status", None)
    allowed = {"Encounter": ENCOUNTER_STATUSES, "Appointment": APPOINTMENT_STATUSES}.get(
        raw["resourceType"]
    )
    if allowed is not None and status not in allowed:
        raise Refused(f"status {status!r} is not an R4 {raw['resourceType']} status")
    return resource


def version_of(raw: dict[str, Any]) -> str:
    """The resource's version: meta.versionId, else a digest of its content (a server that
    keeps no versions still sends the same bytes for the same record)."""
    meta = raw.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("versionId"), str) and meta["versionId"]:
        return str(meta["versionId"])
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha1-" + hashlib.sha1(canonical.encode(), usedforsecurity=False).hexdigest()[:20]


def codings(*concepts: Any) -> list[tuple[str, str]]:
    """(system, code) of every coding in these CodeableConcepts (or Codings, or lists)."""
    found: list[tuple[str, str]] = []
    for concept in concepts:
        if concept is None:
            continue
        if isinstance(concept, list):
            found += codings(*concept)
        elif hasattr(concept, "coding"):
            found += codings(*(concept.coding or []))
        elif getattr(concept, "code", None):
            found.append((concept.system or "", concept.code))
    return found


def words(*concepts: Any) -> str:
    """A CodeableConcept as a person reads it: its text, else its first coding's display."""
    for concept in concepts:
        if concept is None:
            continue
        if isinstance(concept, list):
            said = words(*concept)
        else:
            said = getattr(concept, "text", None) or next(
                (c.display for c in getattr(concept, "coding", None) or [] if c.display), ""
            )
        if said:
            return str(said)[:_MAX_REASON]
    return ""


def moment(value: Any, field: str, zone: dt.tzinfo) -> dt.datetime:
    """An R4 dateTime or instant as an aware datetime. A date alone (allowed by dateTime)
    is taken as noon on that day in the clinic's zone."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # R4: a time must carry its zone; the models let it pass
            raise Refused(f"{field} has a time without a time zone")
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(12), zone)
    raise Refused(f"{field} is not a date and time ({value!r})")


def local_reference(reference: Any, full_urls: dict[str, tuple[str, str]], kind: str) -> str | None:
    """A Reference to a `kind` resource as "Kind/id" (or a Bundle's fullUrl for a resource
    without id), or None when it names none: relative ("Patient/1"), absolute
    ("https://ehr.example/fhir/Patient/1", "…/_history/2") and urn:uuid references."""
    target = getattr(reference, "reference", None) if reference is not None else None
    if not target:
        return None
    if target in full_urls:
        named, key = full_urls[target]
        return key if named == kind else None
    parts = target.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2] == kind and parts[-1]:
        return f"{kind}/{parts[-1]}"
    return None


# The key of a patient named by a logical reference (Reference.identifier, no literal
# reference): the importer finds the patient by that identifier (crm.fhir.importer).
LOGICAL_PREFIX = "identifier|"


def patient_reference(
    reference: Any, full_urls: dict[str, tuple[str, str]], *, typed: bool
) -> str | None:
    """The patient a Reference names: its literal reference (`local_reference`), else its
    logical one (`identifier` with system and value) as LOGICAL_PREFIX + ["system", "value"]
    in JSON (either may hold any character, "|" included).
    With `typed`, a logical reference counts only when it says `type: "Patient"` (a
    participant may be anyone); without, when it does not say another type (a subject)."""
    literal = local_reference(reference, full_urls, "Patient")
    if literal is not None or reference is None or getattr(reference, "reference", None):
        return literal
    identifier = getattr(reference, "identifier", None)
    system = getattr(identifier, "system", None) if identifier is not None else None
    value = getattr(identifier, "value", None) if identifier is not None else None
    kind = getattr(reference, "type", None)
    if not system or not value or (kind != "Patient" if typed else kind not in (None, "Patient")):
        return None
    return LOGICAL_PREFIX + json.dumps([str(system), str(value)])


def logical_identifier(key: str) -> tuple[str, str] | None:
    """(system, value) of a key `patient_reference` made from a logical reference."""
    if not key.startswith(LOGICAL_PREFIX):
        return None
    system, value = json.loads(key.removeprefix(LOGICAL_PREFIX))
    return str(system), str(value)


def label(text: str | None, limit: int) -> str:
    """A display name for a label field: one line, at most `limit` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
