"""The import plan and its application: each FHIR resource read, validated, mapped, matched to
its patient and recorded by one command (crm.handlers.ehr) with a key from its identity and
version; many commands share a transaction, each in its own savepoint."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm import eventstore
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.domain.events.base import build
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold
from crm.eventstore import ConcurrencyConflict, IdempotencyKeyReused
from crm.eventstore.fingerprints import fingerprint
from crm.fhir import decide, mapping
from crm.fhir.client import FhirClient
from crm.fhir.matching import Match, Overlay, by_identifiers, match
from crm.fhir.reading import PASSES, Entry, files, read
from crm.fhir.report import Problem, Summary
from crm.fhir.resources import MODELS, Refused, Skipped, validate, version_of
from crm.handlers.base import Actor, CommandResult
from crm.handlers.ehr import call_import, patient_import, visit_import
from crm.models import CommandRecord, EhrMatchReview, MatchDecision

SOURCE = "fhir"  # metadata "source" of every event the import records
ACTOR = Actor(name="system:fhir-import", channel="job")
_PATIENTS_KEPT = 50_000  # resource -> patient answers kept in memory (bounded)

Record = mapping.PatientRecord | mapping.VisitRecord | mapping.CallRecord


@dataclass(slots=True)
class Importer:
    """One import run. `source` names the EHR (its base URL, or what --source says): the
    identifiers of its records and the keys of its commands are named in it."""

    source: str
    dry_run: bool = False
    batch_size: int = 200
    now: dt.datetime = field(default_factory=timezone.now)
    summary: Summary = field(default_factory=Summary)
    on_resource: Callable[[], None] = lambda: None  # the progress bar's tick
    _overlay: Overlay | None = None
    _states: dict[uuid.UUID, PatientState] = field(default_factory=dict)
    _patients: OrderedDict[str, uuid.UUID] = field(default_factory=OrderedDict)
    _tag: str = field(init=False, default="")
    _zone: dt.tzinfo = field(init=False, default=dt.UTC)

    def __post_init__(self) -> None:
        if self.dry_run:
            self._overlay = Overlay()
        self._tag = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()[:12]
        self._zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)

    # --- the passes --------------------------------------------------------------------

    def import_files(self, paths: Iterable[str | Path]) -> Summary:
        """Patients first (every line read, every type counted), then appointments, then
        encounters: NDJSON files are read again each pass rather than held."""
        found = files(paths)
        for kind in PASSES:
            first = kind == PASSES[0]
            self.run(
                (
                    e
                    for path in found
                    for e in read(
                        path, None if first else kind.__eq__, "" if first else f'"{kind}"'
                    )
                ),
                kind,
                count=first,
            )
        return self.summary

    def import_server(self, client: FhirClient, since: dt.datetime | None) -> Summary:
        """Each type searched in turn (patients first), changed since `since` if given."""
        for kind in PASSES:
            self.run(client.search(kind, since), kind)
        return self.summary

    def run(self, entries: Iterable[Entry], kind: str, *, count: bool = True) -> None:
        """Import the `kind` resources among `entries` (counting every entry read when
        `count`), a transaction per batch."""
        iterator = iter(entries)
        while batch := list(islice(iterator, self.batch_size)):
            if self.dry_run or self.batch_size == 1:
                for entry in batch:
                    self._one(entry, kind, count)
                continue
            with transaction.atomic():
                for entry in batch:
                    self._one(entry, kind, count)

    # --- one resource ------------------------------------------------------------------

    def _one(self, entry: Entry, kind: str, count: bool) -> None:
        found = entry.resource_type
        if count:
            self.summary.read[found or "unreadable"] += 1
            self.on_resource()
        if entry.error:
            if count:
                self._refuse(entry, entry.error)
            return
        if found not in MODELS:
            if count:
                self.summary.skipped[found] += 1
            return
        if found != kind:
            return
        if not count:
            self.on_resource()
        if not entry.key:
            self._refuse(entry, "has no id (and no fullUrl): a later import could not find it")
            return
        try:
            self._import(entry)
        except Skipped as exc:
            self.summary.skipped[found] += 1
            self.summary.skipped_why[f"{found}: {exc.reason}"] += 1
        except Refused as exc:
            self._refuse(entry, exc.reason)

    def _import(self, entry: Entry) -> None:
        assert entry.resource is not None
        resource = validate(entry.resource)
        context = mapping.Context(
            source=self.source,
            region=settings.PHONE_DEFAULT_REGION,
            zone=self._zone,
            full_urls=entry.full_urls,
        )
        kind = entry.resource_type
        if kind == "Patient":
            patient = mapping.patient(resource, entry.key, context)
            for warning in patient.warnings:
                self.summary.warn(Problem(entry.file, entry.where, entry.key, warning))
            matched = match(patient, self.source, self._overlay)
            if matched.patient_id is None:
                self._ambiguous(entry, patient, matched)
                return
            self._apply(entry, matched.patient_id, patient)
            self._remember(entry.key, matched.patient_id)
            if matched.by_front_desk and not self.dry_run:
                EhrMatchReview.objects.filter(source=self.source, resource=entry.key).update(
                    imported_patient_id=matched.patient_id
                )
            return
        record: Record = (
            mapping.encounter(resource, entry.key, context)
            if kind == "Encounter"
            else mapping.appointment(resource, entry.key, context)
        )
        self._apply(entry, self._patient_of(record.patient), record)

    def _patient_of(self, key: str) -> uuid.UUID:
        known = self._patients.get(key)
        if known is not None:
            return known
        owners = by_identifiers([(self.source, key)], self._overlay)
        if len(owners) != 1:
            waiting = EhrMatchReview.objects.filter(
                source=self.source, resource=key, decision=MatchDecision.PENDING
            ).exists()
            if waiting:
                raise Refused(f"its patient {key} waits for the front desk to match it")
            raise Refused(f"its patient {key} is not in the CRM (not imported, or refused)")
        patient_id = owners.pop()
        self._remember(key, patient_id)
        return patient_id

    def _remember(self, key: str, patient_id: uuid.UUID) -> None:
        """Keep which patient a record is (a Bundle's urn:uuid records are found only so)."""
        self._patients[key] = patient_id
        self._patients.move_to_end(key)
        if len(self._patients) > _PATIENTS_KEPT:
            self._patients.popitem(last=False)

    def _apply(self, entry: Entry, patient_id: uuid.UUID, record: Record) -> None:
        assert entry.resource is not None
        kind, version = entry.resource_type, version_of(entry.resource)
        options: dict[str, Any] = {
            "idempotency_key": f"fhir:{self._tag}:{entry.key}/_history/{version}"[:255],
            "fingerprint": fingerprint("fhir_import", {"content": _digest(entry.resource)}),
            "provenance": {
                "source": SOURCE,
                "fhir_source": self.source[:255],
                "resource_type": kind,
                "resource_id": entry.key.split("/", 1)[-1][:255],
                "resource_version": version[:64],
            },
            "occurred_at": decide.clinical_time(record, self.now),
        }
        if isinstance(record, mapping.CallRecord):
            # A call is logged once: a later version of its encounter replays the first.
            options["idempotency_key"] = f"fhir:{self._tag}:{entry.key}/call"[:255]
            options["fingerprint"] = fingerprint("fhir_call", {"resource": entry.key})
        if self.dry_run:
            events = self._plan(patient_id, record, options)
        else:
            events = self._record(patient_id, record, options)
        if events is None:
            self.summary.unchanged[kind] += 1
            return
        self.summary.events.update(e.event_type for e in events)
        (self.summary.imported if events else self.summary.unchanged)[kind] += 1

    def _record(
        self, patient_id: uuid.UUID, record: Record, options: dict[str, Any]
    ) -> list[ev.DomainEvent] | None:
        """Run the command; None when its key was already used (imported before)."""
        batched = self.batch_size > 1
        try:
            if batched:
                with transaction.atomic():  # a savepoint: a refused resource leaves no trace
                    result = _handler(record)(
                        patient_id=patient_id,
                        record=record,
                        actor=ACTOR,
                        now=self.now,
                        in_callers_transaction=True,
                        **options,
                    )
            else:
                result = _handler(record)(
                    patient_id=patient_id, record=record, actor=ACTOR, now=self.now, **options
                )
        except IdempotencyKeyReused:
            raise Refused(
                "this version was imported before with other content; give it a new versionId"
            ) from None
        except ConcurrencyConflict:
            raise Refused("the patient's record changed while importing; import again") from None
        except (DomainError, ev.EventDataInvalid) as exc:
            raise Refused(str(exc)) from None
        return None if result.duplicate else [r.event for r in result.events]

    def _plan(
        self, patient_id: uuid.UUID, record: Record, options: dict[str, Any]
    ) -> list[ev.DomainEvent] | None:
        """What the command would record, decided on the state the run would have left."""
        if CommandRecord.objects.filter(key=options["idempotency_key"]).exists():
            return None
        state = self._states.get(patient_id)
        if state is None:
            state = fold(patient_id, eventstore.read_stream(patient_id))
            self._states[patient_id] = state
        try:
            events = _decision(state, record, self.now)
            for event in events:
                build(type(event), ev.serialize(event))  # the checks an append makes
        except (DomainError, ev.EventDataInvalid) as exc:
            raise Refused(str(exc)) from None
        at = options["occurred_at"]
        for event in events:
            state.apply(RecordedEvent(0, patient_id, state.version + 1, event, at, self.now))
            if isinstance(event, ev.PatientIdentifierRecorded) and self._overlay is not None:
                self._overlay.identifiers[(event.system, event.value)] = patient_id
        return events

    # --- what the front desk sees ------------------------------------------------------

    def _ambiguous(self, entry: Entry, record: mapping.PatientRecord, matched: Match) -> None:
        candidates = ", ".join(str(c) for c in matched.candidates)
        reason = f"not imported: {matched.reason} ({candidates}); listed for the front desk"
        self.summary.ambiguity(Problem(entry.file, entry.where, entry.key, reason))
        if self.dry_run:
            return
        EhrMatchReview.objects.update_or_create(
            source=self.source,
            resource=entry.key,
            defaults={
                "name": record.display_name,
                "date_of_birth": record.date_of_birth,
                "phone": record.phone or "",
                "identifiers": [[s, v, k] for s, v, k in record.identifiers],
                "candidates": [str(c) for c in matched.candidates],
                "reason": matched.reason[:1000],
                "file": entry.file[:1000],
                "last_seen_at": self.now,
            },
            create_defaults={
                "name": record.display_name,
                "date_of_birth": record.date_of_birth,
                "phone": record.phone or "",
                "identifiers": [[s, v, k] for s, v, k in record.identifiers],
                "candidates": [str(c) for c in matched.candidates],
                "reason": matched.reason[:1000],
                "file": entry.file[:1000],
                "first_seen_at": self.now,
                "last_seen_at": self.now,
            },
        )

    def _refuse(self, entry: Entry, reason: str) -> None:
        self.summary.refuse(
            entry.resource_type, Problem(entry.file, entry.where, entry.label, reason)
        )


def _handler(record: Record) -> Callable[..., CommandResult]:
    if isinstance(record, mapping.PatientRecord):
        return patient_import
    if isinstance(record, mapping.CallRecord):
        return call_import
    return visit_import


def _decision(state: PatientState, record: Record, now: dt.datetime) -> list[ev.DomainEvent]:
    if isinstance(record, mapping.PatientRecord):
        return decide.patient(state, record, recorded_by=ACTOR.name, now=now)
    if isinstance(record, mapping.CallRecord):
        return decide.call(state, record, now=now)
    return decide.visit(state, record, now=now)


def _digest(resource: dict[str, Any]) -> str:
    canonical = json.dumps(resource, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
