"""FHIR R4 JSON as the specification's examples write it (patient-example, encounter-example,
appointment-example), for synthetic patients; each builder takes overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MRN_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1"


def patient(pid: str = "pat-1", **overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"versionId": "1", "lastUpdated": "2026-10-01T09:00:00Z"},
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                    ]
                },
                "system": MRN_SYSTEM,
                "value": f"MRN-{pid}",
                "assigner": {"display": "Example Clinic"},
            }
        ],
        "active": True,
        "name": [
            {"use": "official", "family": "Testpatient", "given": ["Avery", "Quinn"]},
            {"use": "usual", "given": ["Ave"]},
        ],
        "telecom": [
            {"system": "phone", "value": "(617) 555-0134", "use": "mobile", "rank": 1},
            {"system": "email", "value": "avery@example.org"},
        ],
        "gender": "female",
        "birthDate": "1980-04-12",
        "address": [{"use": "home", "line": ["1 Example St"], "city": "Boston", "state": "MA"}],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX", "display": "Spanish"}]
                },
                "preferred": True,
            }
        ],
    }
    resource.update(overrides)
    return resource


def encounter(
    eid: str = "enc-1", patient_ref: str = "Patient/pat-1", **overrides: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": eid,
        "meta": {"versionId": "1", "lastUpdated": "2025-03-04T16:00:00Z"},
        "status": "finished",
        "class": {"system": ACT, "code": "AMB", "display": "ambulatory"},
        "type": [
            {
                "coding": [
                    {"system": SNOMED, "code": "185349003", "display": "Encounter for check up"}
                ]
            }
        ],
        "subject": {"reference": patient_ref},
        "participant": [
            {"individual": {"reference": "Practitioner/pr-1", "display": "Dr. Example Provider"}}
        ],
        "period": {"start": "2025-03-04T14:00:00Z", "end": "2025-03-04T14:40:00Z"},
        "location": [{"location": {"reference": "Location/l1", "display": "Main Street Clinic"}}],
    }
    resource.update(overrides)
    return resource


def appointment(
    aid: str = "apt-1", patient_ref: str = "Patient/pat-1", **overrides: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": aid,
        "meta": {"versionId": "1", "lastUpdated": "2026-10-20T10:00:00Z"},
        "status": "booked",
        "appointmentType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v2-0276",
                    "code": "FOLLOWUP",
                    "display": "A follow up visit from a previous appointment",
                }
            ]
        },
        "start": "2026-11-20T15:00:00Z",
        "end": "2026-11-20T15:30:00Z",
        "created": "2026-10-20",
        "participant": [
            {
                "actor": {"reference": patient_ref, "display": "Avery Testpatient"},
                "status": "accepted",
            },
            {
                "actor": {"reference": "Practitioner/pr-1", "display": "Dr. Example Provider"},
                "status": "accepted",
            },
            {
                "actor": {"reference": "Location/l1", "display": "Main Street Clinic"},
                "status": "accepted",
            },
        ],
    }
    resource.update(overrides)
    return resource


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {
                "fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r.get('id', n)}",
                "resource": r,
            }
            for n, r in enumerate(resources)
        ],
    }


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def write_ndjson(path: Path, *resources: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in resources))
    return path
