"""Handlers for what the EHR import records: a patient's details and identifiers, a visit, a
telephone call; each one FHIR resource, decided by crm.fhir.decide and run through execute."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Unpack

from django.utils import timezone

from crm.domain import events as ev
from crm.domain.errors import CommandRefused
from crm.domain.state import PatientState
from crm.fhir import decide
from crm.fhir.mapping import CallRecord, PatientRecord, VisitRecord
from crm.handlers.base import Actor, CommandOptions, CommandResult, execute, execute_many
from crm.models import PatientIdentifier


def patient_import(
    *,
    patient_id: uuid.UUID,
    record: PatientRecord,
    actor: Actor,
    now: dt.datetime | None = None,
    in_callers_transaction: bool = False,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    """Register the EHR's patient on `patient_id`'s stream, or bring it up to the EHR's
    details; the identifiers it records are indexed in the same transaction."""
    return _import_one(patient_id, record, actor, now, in_callers_transaction, options)


def visit_import(
    *,
    patient_id: uuid.UUID,
    record: VisitRecord,
    actor: Actor,
    now: dt.datetime | None = None,
    in_callers_transaction: bool = False,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    """Book, move or close a visit as the EHR's appointment or encounter has it."""
    return _import_one(patient_id, record, actor, now, in_callers_transaction, options)


def call_import(
    *,
    patient_id: uuid.UUID,
    record: CallRecord,
    actor: Actor,
    now: dt.datetime | None = None,
    in_callers_transaction: bool = False,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    """Log the EHR's finished telephone encounter as a call."""
    return _import_one(patient_id, record, actor, now, in_callers_transaction, options)


def _import_one(
    patient_id: uuid.UUID,
    record: PatientRecord | VisitRecord | CallRecord,
    actor: Actor,
    now: dt.datetime | None,
    in_callers_transaction: bool,
    options: CommandOptions,
) -> CommandResult:
    spec = _command(patient_id, record, actor, now or timezone.now())
    spec.pop("decided", None)
    return execute(**spec, in_callers_transaction=in_callers_transaction, **options)


def import_many(
    commands: Sequence[
        tuple[uuid.UUID, PatientRecord | VisitRecord | CallRecord, Mapping[str, Any]]
    ],
    *,
    actor: Actor,
    now: dt.datetime,
) -> list[CommandResult]:
    """Several of the above, each (patient, what the EHR says, its options), in one
    transaction (`execute_many`): all recorded, or, if any is refused, none. The
    identifiers the patients' commands record are indexed together, once all decided."""
    recorded: list[tuple[uuid.UUID, list[ev.DomainEvent]]] = []
    specs = []
    for pid, record, options in commands:
        spec = {**_command(pid, record, actor, now), **options}
        if "in_transaction" in spec:
            decided = spec.pop("decided")
            spec["in_transaction"] = functools.partial(recorded.append, (pid, decided))
        specs.append(spec)
    return execute_many(specs, before_append=lambda: index_identifiers_many(recorded, now))


def _command(
    patient_id: uuid.UUID,
    record: PatientRecord | VisitRecord | CallRecord,
    actor: Actor,
    now: dt.datetime,
) -> dict[str, Any]:
    """The command (execute's arguments) that records `record` on `patient_id`'s stream."""
    if isinstance(record, PatientRecord):
        decided: list[ev.DomainEvent] = []

        def decide_patient(state: PatientState) -> list[ev.DomainEvent]:
            decided[:] = decide.patient(state, record, recorded_by=actor.name, now=now)
            return decided

        return {
            "patient_id": patient_id,
            "decide": decide_patient,
            "in_transaction": lambda: index_identifiers(patient_id, decided, now),
            "decided": decided,
            "actor": actor,
        }
    if isinstance(record, CallRecord):
        call = record
        return {
            "patient_id": patient_id,
            "decide": lambda state: decide.call(state, call, now=now),
            "actor": actor,
        }
    visit = record
    return {
        "patient_id": patient_id,
        "decide": lambda state: decide.visit(state, visit, now=now),
        "actor": actor,
    }


def index_identifiers(
    patient_id: uuid.UUID, decided: list[ev.DomainEvent], at: dt.datetime
) -> None:
    """Index the identifiers these events record, refusing one that already names another
    patient: two records are never joined by an import (the front desk merges)."""
    index_identifiers_many([(patient_id, decided)], at)


def index_identifiers_many(
    recorded: Sequence[tuple[uuid.UUID, list[ev.DomainEvent]]], at: dt.datetime
) -> None:
    """`index_identifiers` for several patients' events: one look-up, one insert; an
    identifier two of them record is refused as one another patient already has."""
    owner: dict[tuple[str, str], uuid.UUID] = {}
    rows = []
    for patient_id, decided in recorded:
        for e in decided:
            if not isinstance(e, ev.PatientIdentifierRecorded):
                continue
            first = owner.setdefault((e.system, e.value), patient_id)
            if first != patient_id:
                raise _taken(e.system, e.value, first)
            rows.append(
                PatientIdentifier(
                    system=e.system,
                    value=e.value,
                    kind=e.kind,
                    patient_id=patient_id,
                    recorded_at=at,
                )
            )
    if not rows:
        return
    indexed = PatientIdentifier.objects.filter(value__in={v for _, v in owner}).values_list(
        "system", "value", "patient_id"
    )
    for system, value, pid in indexed:
        if (system, value) in owner and pid != owner[(system, value)]:
            raise _taken(system, value, pid)
    PatientIdentifier.objects.bulk_create(rows, ignore_conflicts=True)


def _taken(system: str, value: str, patient_id: uuid.UUID) -> CommandRefused:
    return CommandRefused(
        f"identifier {value} ({system}) already names patient "
        f"{patient_id}; the front desk decides whether they are the same person"
    )
