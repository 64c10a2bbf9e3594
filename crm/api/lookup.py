"""The screen pop's body for a caller's number: built once here for the lookup endpoint and
for the desk's pushed pops (crm.voice), with the access notes each reader's audit records."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from crm import eventstore, timeline
from crm.api import entries, profiles
from crm.api.audit import AccessNote, query_digest
from crm.api.rendering import Convert, compile_output
from crm.api.roles import may_read_restricted_notes
from crm.api.serializers import LookupSerializer
from crm.domain.recorded import RecordedEvent
from crm.extensions import screen_pop_sections
from crm.models import PatientProfile
from crm.selectors import rows

LOOKUP_MAX_CANDIDATES = 20
LOOKUP_TIMELINE_ENTRIES = 10


@dataclass(frozen=True, slots=True)
class Lookup:
    """Who is calling from a number: the body (LookupSerializer's shape), what the audit
    records of it, and the version of the one profile shown (its ETag), if one is."""

    body: dict[str, Any]
    notes: list[AccessNote]
    match_count: int
    version: int | None = None


def caller_lookup(e164: str, *, picked: uuid.UUID | None, user: Any, now: dt.datetime) -> Lookup:
    """One match: the profile, its sections and recent timeline; several (a household sharing
    a phone): the candidates; none: an empty pop. `e164` "" is a withheld number."""
    digest = query_digest(e164) if e164 else ""
    shown = _matches(e164, picked) if e164 else []
    count = len(shown)
    if count > LOOKUP_MAX_CANDIDATES:
        count = PatientProfile.objects.answering().filter(phone=e164).count()
    shown = shown[:LOOKUP_MAX_CANDIDATES]
    body: dict[str, Any] = {
        "phone": e164,
        "match_count": count,
        "patient": None,
        "recent_timeline": [],
        "candidates": shown,
        **{section.key: [] for section in screen_pop_sections()},
    }
    if not shown:
        return Lookup(render_lookup()(body), [AccessNote(None, "no_match", digest)], 0)
    if len(shown) > 1:
        notes = [AccessNote(p.patient_id, "several_matches", digest) for p in shown]
        return Lookup(render_lookup()(body), notes, count)
    profile = shown[0]
    body["patient"] = profiles.current(profile, now=now)
    body["recent_timeline"] = _recent_timeline(user, profile)
    for section in screen_pop_sections():
        loaded = section.load([profile.patient_id], now)
        body[section.key] = loaded.get(profile.patient_id, [])
    outcome = "selected" if picked else "one_match"
    notes = [AccessNote(profile.patient_id, outcome, digest)]
    return Lookup(render_lookup()(body), notes, count, version=profile.version)


# Plain SQL (crm.selectors.rows) for the screen pop's hottest query: p99 568-600 ms -> 185-311 ms
# (docs/benchmarks.md). Its `merged_into IS NULL` is `PatientProfile.objects.answering()`,
# held equal by tests/api/test_lookup.py's merged-record tests.
_MATCHES = (
    "WHERE phone = %s AND merged_into IS NULL{picked} "
    f"ORDER BY last_name, first_name, date_of_birth, patient_id LIMIT {LOOKUP_MAX_CANDIDATES + 1}"
)


def _matches(e164: str, picked: uuid.UUID | None) -> list[PatientProfile]:
    """The patients with this number (or the one picked among them), in the order shown,
    one more than are shown so the caller knows there are more."""
    if picked is None:
        return rows.fetch(PatientProfile, _MATCHES.format(picked=""), [e164])
    clause = _MATCHES.format(picked=" AND patient_id = %s")
    return rows.fetch(
        PatientProfile, clause, [e164, rows.prep(PatientProfile, "patient_id", picked)]
    )


def _recent_timeline(user: Any, profile: PatientProfile) -> list[dict[str, Any]]:
    # Capped at the profile's version, so the timeline never runs ahead of the profile. The
    # visits and tests the entries name come in the same round trip (docs/benchmarks.md).
    recent, referenced = eventstore.read_latest_and_types(
        profile.patient_id,
        up_to_version=profile.version,
        limit=LOOKUP_TIMELINE_ENTRIES,
        types=timeline.REFERENCED,
    )
    references = timeline.references_from(
        (r.version, r.event if isinstance(r, RecordedEvent) else None) for r in referenced
    )
    zone = entries.zone_of(profile.timezone)
    visible = may_read_restricted_notes(user)
    return entries.recorded_timeline_entries(
        recent, zone=zone, restricted_visible=visible, references=references
    )


@functools.cache
def render_lookup() -> Convert:
    # LookupSerializer's output (its schema is the contract), made once, not per response.
    return compile_output(LookupSerializer())
