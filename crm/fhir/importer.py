"""The import: each FHIR resource read, validated, mapped and matched to its patient, with its
command's key from its identity and version; then planned and applied a batch at a time."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import queue
import threading
import uuid
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from crm.domain import events as ev
from crm.eventstore.fingerprints import fingerprint
from crm.fhir import decide, mapping
from crm.fhir.applying import Outcome, Planner, Record, Work, apply
from crm.fhir.client import FhirClient
from crm.fhir.matching import Lookup, Match, Overlay, by_identifiers, match, prefetch
from crm.fhir.reading import PASSES, Entry, files, read
from crm.fhir.report import Problem, Summary
from crm.fhir.resources import (
    MODELS,
    Refused,
    Skipped,
    logical_identifier,
    validate,
    version_of,
)
from crm.handlers.base import Actor
from crm.models import EhrMatchReview, MatchDecision

SOURCE = "fhir"  # metadata "source" of every event the import records
ACTOR = Actor(name="system:fhir-import", channel="job")
_PATIENTS_KEPT = 50_000  # resource -> patient answers kept in memory (bounded)


# Resources planned and committed together. Larger batches cost fewer round trips per
# resource (bench fhir: 1,492/s at 200, 1,830/s at 1,000, 2,095/s at 2,000) and hold the
# append lock only for their one INSERT and COMMIT; a batch that fails anyway is run again
# one resource at a time.
BATCH_SIZE = 2000


@dataclass(slots=True)
class Importer:
    """One import run. `source` names the EHR (its base URL, or what --source says): the
    identifiers of its records and the keys of its commands are named in it."""

    source: str
    dry_run: bool = False
    batch_size: int = BATCH_SIZE
    now: dt.datetime = field(default_factory=timezone.now)
    summary: Summary = field(default_factory=Summary)
    on_resource: Callable[[], None] = lambda: None  # the progress bar's tick
    _overlay: Overlay | None = None
    _patients: OrderedDict[str, uuid.UUID] = field(default_factory=OrderedDict)
    _decided: set[str] = field(default_factory=set)  # records the front desk matched
    _listed: set[str] = field(default_factory=set)  # dry run: records it would list
    _reviews: bool = field(init=False, default=True)  # any record listed for the desk
    _planner: Planner = field(init=False)
    _tag: str = field(init=False, default="")
    _zone: dt.tzinfo = field(init=False, default=dt.UTC)

    def __post_init__(self) -> None:
        if self.dry_run:
            self._overlay = Overlay()
        self._tag = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()[:12]
        self._zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self._planner = Planner(now=self.now, actor=ACTOR, keep_all=self.dry_run)
        self._reviews = EhrMatchReview.objects.filter(source=self.source).exists()

    # --- the passes --------------------------------------------------------------------

    def import_files(self, paths: Iterable[str | Path]) -> Summary:
        """Patients first (every line read, every type counted), then appointments, then
        encounters: NDJSON files are read again each pass rather than held."""
        passed_over: list[Path] = []
        found = files(paths, passed_over)
        for path in passed_over:
            self.summary.pass_over(str(path))
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
        `count`), planned and applied a batch at a time."""
        iterator = _ahead(entries, lambda entry: self._map(entry, kind), self.batch_size * 2)
        while batch := list(islice(iterator, self.batch_size)):
            prepared = [
                p for entry, mapped in batch if (p := self._prepare(entry, kind, count, mapped))
            ]
            # The batch's patients are matched together: what matching reads, read once.
            patients = [p for p in prepared if isinstance(p, _Mapped)]
            lookup = prefetch([p.record for p in patients]) if patients else None
            works = [
                w
                for p in prepared
                if (w := self._matched(p, lookup) if isinstance(p, _Mapped) else p) is not None
            ]
            if not works:
                continue
            settled, planned = self._planner.plan(works)
            if self.dry_run:
                done = [
                    Outcome(w, events=tuple(e.event_type for e in events)) for w, events in planned
                ]
                self._overlay_identifiers(planned)
            else:
                done = apply(
                    planned,
                    actor=ACTOR,
                    now=self.now,
                    batched=self.batch_size > 1,
                    planner=self._planner,
                )
            for outcome in [*settled, *done]:
                self._count(outcome)

    # --- one resource ------------------------------------------------------------------

    def _map(self, entry: Entry, kind: str) -> _Read:
        """Validate and map one entry of `kind`, else None; the database is not touched (a
        thread runs this ahead of the batch being written, `_ahead`)."""
        if entry.error or entry.resource is None or entry.resource_type != kind:
            return None
        if kind not in MODELS or not entry.key:
            return None
        context = mapping.Context(
            source=self.source,
            region=settings.PHONE_DEFAULT_REGION,
            zone=self._zone,
            full_urls=entry.full_urls,
        )
        try:
            resource = validate(entry.resource)
            if kind == "Patient":
                return mapping.patient(resource, entry.key, context)
            if kind == "Encounter":
                return mapping.encounter(resource, entry.key, context)
            return mapping.appointment(resource, entry.key, context)
        except (Refused, Skipped) as exc:
            return exc

    def _prepare(
        self, entry: Entry, kind: str, count: bool, mapped: _Read
    ) -> Work | _Mapped | None:
        """One entry read, validated and mapped (`mapped`): what to record (a patient still
        to match), or None (counted)."""
        found = entry.resource_type
        if count:
            self.summary.read[found or "unreadable"] += 1
            self.on_resource()
        if entry.error:
            if count:
                self._refuse(entry, entry.error)
            return None
        if found not in MODELS:
            if count:
                self.summary.skipped[found] += 1
            return None
        if found != kind:
            return None
        if not count:
            self.on_resource()
        if not entry.key:
            self._refuse(entry, "has no id (and no fullUrl): a later import could not find it")
            return None
        try:
            return self._work(entry, mapped)
        except Skipped as exc:
            self._skip(found, exc.reason)
        except Refused as exc:
            self._refuse(entry, exc.reason)
        return None

    def _work(self, entry: Entry, mapped: _Read) -> Work | _Mapped:
        if isinstance(mapped, Refused | Skipped):
            raise mapped
        assert mapped is not None
        if isinstance(mapped, mapping.PatientRecord):
            for warning in mapped.warnings:
                self.summary.warn(Problem(entry.file, entry.where, entry.key, warning))
            return _Mapped(entry, mapped)
        return self._command(entry, self._patient_of(mapped.patient), mapped)

    def _matched(self, mapped: _Mapped, lookup: Lookup | None) -> Work | None:
        """The patient's record matched to its CRM patient, or None (listed for the desk)."""
        entry, patient = mapped.entry, mapped.record
        matched = match(patient, self.source, self._overlay, reviews=self._reviews, lookup=lookup)
        if matched.patient_id is None:
            self._ambiguous(entry, patient, matched)
            return None
        self._remember(entry.key, matched.patient_id)
        if matched.by_front_desk:
            self._decided.add(entry.key)
        return self._command(entry, matched.patient_id, patient)

    def _patient_of(self, key: str) -> uuid.UUID:
        known = self._patients.get(key)
        if known is not None:
            return known
        # The EHR's own record id; or, for a logical reference, the identifier it gives
        # (an MRN), as the patient's import recorded it.
        owners = by_identifiers([logical_identifier(key) or (self.source, key)], self._overlay)
        if len(owners) != 1:
            waiting = (
                key in self._listed
                or EhrMatchReview.objects.filter(
                    source=self.source, resource=key, decision=MatchDecision.PENDING
                ).exists()
            )
            if waiting:
                raise Refused(f"its patient {key} waits for the front desk to match it")
            logical = logical_identifier(key)
            if logical is not None:
                many = "several CRM patients have" if owners else "no CRM patient has"
                raise Refused(
                    f"its patient is named by identifier {logical[1]!r} ({logical[0]}), "
                    f"which {many}"
                )
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

    def _command(self, entry: Entry, patient_id: uuid.UUID, record: Record) -> Work:
        """The command's options: its key from the resource's identity and version, bound
        to the resource's content, and where its events came from."""
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
        return Work(entry, patient_id, record, options)

    def _count(self, outcome: Outcome) -> None:
        work = outcome.work
        kind = work.entry.resource_type
        if outcome.refused:
            self._refuse(work.entry, outcome.refused)
        elif outcome.skipped:
            self._skip(kind, outcome.skipped)
        elif outcome.unchanged:
            self.summary.unchanged[kind] += 1
        else:
            self.summary.imported[kind] += 1
            self.summary.events.update(outcome.events)
            if work.entry.key in self._decided and not self.dry_run:
                EhrMatchReview.objects.filter(source=self.source, resource=work.entry.key).update(
                    imported_patient_id=work.patient_id
                )

    def _overlay_identifiers(self, planned: list[tuple[Work, list[ev.DomainEvent]]]) -> None:
        assert self._overlay is not None
        for work, events in planned:
            for event in events:
                if isinstance(event, ev.PatientIdentifierRecorded):
                    self._overlay.identifiers[(event.system, event.value)] = work.patient_id
                    if event.kind == "RI":
                        self._overlay.records.add((event.system, work.patient_id))

    def _skip(self, kind: str, reason: str) -> None:
        self.summary.skipped[kind] += 1
        self.summary.skipped_why[f"{kind}: {reason}"] += 1

    # --- what the front desk sees ------------------------------------------------------

    def _ambiguous(self, entry: Entry, record: mapping.PatientRecord, matched: Match) -> None:
        candidates = ", ".join(str(c) for c in matched.candidates)
        reason = f"not imported: {matched.reason} ({candidates}); listed for the front desk"
        self.summary.ambiguity(Problem(entry.file, entry.where, entry.key, reason))
        if self.dry_run:
            self._listed.add(entry.key)
            return
        listed = {
            "name": record.display_name,
            "date_of_birth": record.date_of_birth,
            "phone": record.phone or "",
            "identifiers": [[s, v, k] for s, v, k in record.identifiers],
            "candidates": [str(c) for c in matched.candidates],
            "reason": matched.reason[:1000],
            "file": entry.file[:1000],
            "last_seen_at": self.now,
        }
        EhrMatchReview.objects.update_or_create(
            source=self.source,
            resource=entry.key,
            defaults=listed,
            create_defaults={**listed, "first_seen_at": self.now},
        )

    def _refuse(self, entry: Entry, reason: str) -> None:
        self.summary.refuse(
            entry.resource_type, Problem(entry.file, entry.where, entry.label, reason)
        )


# What the read-ahead thread hands over for an entry: its mapping, why it has none, or None
# (not of the pass's type, unreadable, or with no id: the import's thread says which).
_Read = Record | Refused | Skipped | None
_CHUNK = 100  # entries handed over at a time


def _ahead(
    entries: Iterable[Entry], work: Callable[[Entry], _Read], size: int
) -> Iterator[tuple[Entry, _Read]]:
    """`(entry, work(entry))` for each entry, worked out by a thread at most `size` entries
    ahead: reading, validating and mapping the next batch go on while this one waits on the
    database. Memory stays bounded; an error in the thread is raised here."""
    chunks: queue.Queue[list[tuple[Entry, _Read]] | BaseException | None] = queue.Queue(
        maxsize=max(1, size // _CHUNK)
    )
    stop = threading.Event()

    def hand_over(item: list[tuple[Entry, _Read]] | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            chunk: list[tuple[Entry, _Read]] = []
            for entry in entries:
                chunk.append((entry, work(entry)))
                if len(chunk) >= _CHUNK:
                    if not hand_over(chunk):
                        return
                    chunk = []
            if chunk and not hand_over(chunk):
                return
            hand_over(None)
        except BaseException as error:  # raised in the import's thread
            hand_over(error)

    thread = threading.Thread(target=produce, name="fhir-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        thread.join()


@dataclass(frozen=True, slots=True)
class _Mapped:
    """A patient read, validated and mapped, to match with the rest of its batch."""

    entry: Entry
    record: mapping.PatientRecord


def _digest(resource: dict[str, Any]) -> str:
    canonical = json.dumps(resource, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
