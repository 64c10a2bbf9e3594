"""Which CRM patient an EHR patient is: by identifier (the EHR's record id, its MRN), then name,
birth date and phone; anything less than one answer is listed for the front desk, never merged."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from crm.fhir.mapping import NAMESPACE, PatientRecord
from crm.models import EhrMatchReview, MatchDecision, PatientIdentifier, PatientProfile


@dataclass(frozen=True, slots=True)
class Match:
    patient_id: uuid.UUID | None  # None: ambiguous
    new: bool = False
    candidates: tuple[uuid.UUID, ...] = ()
    reason: str = ""
    by_front_desk: bool = False  # the front desk's decision on an earlier ambiguous match


@dataclass(slots=True)
class Overlay:
    """What a dry run would have indexed: identifiers of patients it did not write."""

    identifiers: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    # (source, patient) for each patient it would have given an EHR record id ("RI").
    records: set[tuple[str, uuid.UUID]] = field(default_factory=set)


Namesake = tuple[dt.date, str | None, str | None]  # birth date, names in capitals


@dataclass(slots=True)
class Lookup:
    """What matching a batch of patients reads, read once for the whole batch (`prefetch`):
    the owners of their identifiers, and the answering records born on their birth dates."""

    pairs: set[tuple[str, str]]
    owners: dict[tuple[str, str], uuid.UUID]
    births: set[dt.date]
    namesakes: dict[Namesake, list[tuple[uuid.UUID, str | None]]]


def prefetch(records: Sequence[PatientRecord]) -> Lookup:
    """Two queries for a batch of patients, where matching each asks two of its own. Names
    compare in capitals, as `iexact` does (the batch's patients are matched before any of
    them is written, so what they read is the same)."""
    pairs = {(s, v) for record in records for s, v, _ in record.identifiers}
    births = {record.date_of_birth for record in records}
    namesakes: dict[Namesake, list[tuple[uuid.UUID, str | None]]] = defaultdict(list)
    if births:
        rows = (
            PatientProfile.objects.answering()
            .filter(date_of_birth__in=births)
            .values_list("patient_id", "phone", "date_of_birth", "first_name", "last_name")
        )
        for pid, phone, born, first, last in rows:
            namesakes[(born, _upper(first), _upper(last))].append((pid, phone))
    return Lookup(pairs, _owners(list(pairs), None), births, dict(namesakes))


def _upper(name: str | None) -> str | None:
    return None if name is None else name.upper()


def new_patient_id(source: str, key: str) -> uuid.UUID:
    """The stream of a patient the import registers: named by the EHR's record, so a second
    import of it (even with its index lost) lands on the same stream."""
    return uuid.uuid5(NAMESPACE, f"{source}|patient|{key}")


def by_identifiers(
    pairs: Iterable[tuple[str, str]], overlay: Overlay | None = None
) -> set[uuid.UUID]:
    """The patients (merges followed to the surviving record) these identifiers name."""
    return surviving(set(_owners(list(pairs), overlay).values()))


def _owners(
    pairs: list[tuple[str, str]], overlay: Overlay | None, lookup: Lookup | None = None
) -> dict[tuple[str, str], uuid.UUID]:
    """Which record each of these identifiers names, in one query (none if looked up)."""
    found: dict[tuple[str, str], uuid.UUID] = {}
    if lookup is not None and lookup.pairs.issuperset(pairs):
        found = {p: lookup.owners[p] for p in pairs if p in lookup.owners}
    elif pairs:
        # By value, then the pair: one short query even for a batch's thousand identifiers.
        wanted = set(pairs)
        rows = PatientIdentifier.objects.filter(value__in={v for _, v in wanted}).values_list(
            "system", "value", "patient_id"
        )
        found = {(system, value): pid for system, value, pid in rows if (system, value) in wanted}
    if overlay is not None:
        found |= {p: overlay.identifiers[p] for p in pairs if p in overlay.identifiers}
    return found


def surviving(patient_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Each record, or the record it was merged into."""
    if not patient_ids:
        return set()
    merged = dict(
        PatientProfile.objects.filter(
            patient_id__in=patient_ids, merged_into__isnull=False
        ).values_list("patient_id", "merged_into")
    )
    return {merged.get(pid) or pid for pid in patient_ids}


def match(
    record: PatientRecord,
    source: str,
    overlay: Overlay | None = None,
    *,
    reviews: bool = True,
    lookup: Lookup | None = None,
) -> Match:
    """`reviews=False`: the source has no record listed for the front desk (one query less
    for each new patient); `lookup`: what `prefetch` read for the record's batch."""
    own = (source, record.key)  # the EHR's id of this record
    found = _owners([(s, v) for s, v, _ in record.identifiers], overlay, lookup)
    if own in found:
        return Match(surviving({found[own]}).pop())
    owners = surviving(set(found.values()))
    if len(owners) > 1:
        return Match(
            None, candidates=_sorted(owners), reason="its identifiers name several patients"
        )
    decided = _front_desk(source, record.key) if reviews else None
    if len(owners) == 1:
        owner = owners.pop()
        # Its MRN names a patient the EHR already knows under another record: a reused
        # number, or one person under two records; either way the front desk decides.
        known = overlay is not None and (source, owner) in overlay.records
        if not known and not _has_record(owner, source):
            return Match(owner)
        return decided or Match(
            None,
            candidates=(owner,),
            reason="its MRN names a patient the EHR knows under another record",
        )
    return decided or _by_demographics(record, source, lookup)


def _has_record(patient_id: uuid.UUID, source: str) -> bool:
    """Whether the CRM knows the patient under a record of this EHR."""
    return PatientIdentifier.objects.filter(
        patient_id=patient_id, system=source, kind="RI"
    ).exists()


def _front_desk(source: str, key: str) -> Match | None:
    review = EhrMatchReview.objects.filter(source=source, resource=key).first()
    if review is None or review.decision == MatchDecision.PENDING:
        return None
    if review.decision == MatchDecision.LINK and review.linked_patient_id is not None:
        linked = surviving({review.linked_patient_id})
        return Match(linked.pop(), by_front_desk=True)
    return Match(new_patient_id(source, key), new=True, by_front_desk=True)


def _by_demographics(record: PatientRecord, source: str, lookup: Lookup | None) -> Match:
    if lookup is not None and record.date_of_birth in lookup.births:
        namesake = (record.date_of_birth, _upper(record.first_name), _upper(record.last_name))
        candidates = list(lookup.namesakes.get(namesake, ()))
    else:
        candidates = list(
            PatientProfile.objects.answering()
            .filter(
                date_of_birth=record.date_of_birth,
                first_name__iexact=record.first_name,
                last_name__iexact=record.last_name,
            )
            .values_list("patient_id", "phone")
        )
    # A record the same EHR already knows under another id is another person of that name.
    if candidates:
        systems = {system for system, _, _ in record.identifiers}
        other = set(
            PatientIdentifier.objects.filter(
                patient_id__in=[pid for pid, _ in candidates], system__in=systems
            ).values_list("patient_id", flat=True)
        )
        candidates = [(pid, phone) for pid, phone in candidates if pid not in other]
    if not candidates:
        return Match(new_patient_id(source, record.key), new=True)
    same_phone = [pid for pid, phone in candidates if record.phone and phone == record.phone]
    if len(same_phone) == 1:
        return Match(same_phone[0])
    everyone = _sorted({pid for pid, _ in candidates})
    if len(same_phone) > 1:
        return Match(
            None, candidates=everyone, reason="several records share its name, birth date and phone"
        )
    if record.phone:
        reason = "a record with its name and birth date has another phone number"
    else:
        reason = "a record has its name and birth date, and it gives no phone to confirm"
    return Match(None, candidates=everyone, reason=reason)


def _sorted(ids: Iterable[uuid.UUID]) -> tuple[uuid.UUID, ...]:
    return tuple(sorted(ids, key=str))
