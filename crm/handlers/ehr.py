"""Handlers for what the EHR import records: a patient's details and identifiers, a visit, a
telephone call; each one FHIR resource, decided by crm.fhir.decide and run through execute."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Unpack

from django.db.models import Q
from django.utils import timezone

from crm.domain import events as ev
from crm.domain.errors import CommandRefused
from crm.domain.state import PatientState
from crm.fhir import decide
from crm.fhir.mapping import CallRecord, PatientRecord, VisitRecord
from crm.handlers.base import Actor, CommandOptions, CommandResult, execute
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
    moment = now or timezone.now()
    decided: list[ev.DomainEvent] = []

    def decide_patient(state: PatientState) -> list[ev.DomainEvent]:
        decided[:] = decide.patient(state, record, recorded_by=actor.name, now=moment)
        return decided

    return execute(
        patient_id=patient_id,
        decide=decide_patient,
        in_transaction=lambda: index_identifiers(patient_id, decided, moment),
        in_callers_transaction=in_callers_transaction,
        actor=actor,
        **options,
    )


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
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decide.visit(state, record, now=moment),
        in_callers_transaction=in_callers_transaction,
        actor=actor,
        **options,
    )


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
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decide.call(state, record, now=moment),
        in_callers_transaction=in_callers_transaction,
        actor=actor,
        **options,
    )


def index_identifiers(
    patient_id: uuid.UUID, decided: list[ev.DomainEvent], at: dt.datetime
) -> None:
    """Index the identifiers these events record, refusing one that already names another
    patient: two records are never joined by an import (the front desk merges)."""
    new = [e for e in decided if isinstance(e, ev.PatientIdentifierRecorded)]
    if not new:
        return
    wanted = Q()
    for event in new:
        wanted |= Q(system=event.system, value=event.value)
    taken = PatientIdentifier.objects.filter(wanted).exclude(patient_id=patient_id).first()
    if taken is not None:
        raise CommandRefused(
            f"identifier {taken.value} ({taken.system}) already names patient "
            f"{taken.patient_id}; the front desk decides whether they are the same person"
        )
    PatientIdentifier.objects.bulk_create(
        [
            PatientIdentifier(
                system=e.system, value=e.value, kind=e.kind, patient_id=patient_id, recorded_at=at
            )
            for e in new
        ],
        ignore_conflicts=True,
    )
