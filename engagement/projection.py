"""The `suggestions` catch-up projection: every patient a batch touches is folded again and
evaluated at the projection's clock, rows replaced with the checkpoint (docs/engagement.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import io
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import Case, F, JSONField, Q, Value, When
from django.utils import timezone

from crm import eventstore
from crm.desk import feed
from crm.domain import events as ev
from crm.domain.kept import Kept, KeptStates, Place, Stored
from crm.domain.recorded import RecordedEvent
from crm.eventstore import records
from crm.models import Event, PatientProfile
from crm.projections import parking, runner
from crm.projections.runner import CatchUpProjection
from engagement.conf import rule_config
from engagement.domain.config import RuleConfig
from engagement.domain.evaluate import evaluate
from engagement.domain.state import EngagementState, fold_engagement
from engagement.domain.suggestions import ACTIVE, Evaluation, Status
from engagement.domain.suggestions import Suggestion as Found
from engagement.models import PatientAgenda, Suggestion
from engagement.passes import (
    AGENDA_COLUMNS,
    MERGES,
    SUGGESTION_COLUMNS,
    UNREAD,
    copy_writer,
    evidence_json,
)

logger = logging.getLogger(__name__)

NAME = "suggestions"
_COLUMNS = (
    "position",
    "stream_id",
    "version",
    "event_type",
    "schema_version",
    "payload",
    "metadata",
    "occurred_at",
    "recorded_at",
)
# Merges of merges are followed this deep; real chains are one or two long.
_MAX_MERGE_DEPTH = 8
# Folded states a follower keeps between batches: about 12 kB each for a patient with 30
# events (measured with tracemalloc), so about 120 MB when full.
CACHE_SIZE = 10_000


class SuggestionsProjection(CatchUpProjection):
    name = NAME
    read_models = (Suggestion, PatientAgenda)
    # The moment suggestions are evaluated at; tests pin it to make runs comparable.
    clock: Callable[[], dt.datetime] = staticmethod(timezone.now)

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        self.cache: KeptStates[EngagementState] = KeptStates(cache_size)

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        """The runner's batch: every committed event after the checkpoint, up to the last."""
        with _collector_paused():
            self._handle(events)

    def _handle(self, events: Sequence[RecordedEvent]) -> None:
        upto = events[-1].position
        now, config = self.clock(), rule_config()
        by_patient: dict[uuid.UUID, list[RecordedEvent]] = {}
        for recorded in events:
            by_patient.setdefault(recorded.stream_id, []).append(recorded)
        moved = _moved_on(
            {
                pid: own[-1].position
                for pid, own in by_patient.items()
                if all(r.event.event_type in UNREAD for r in own)
            }
        )
        warm = self._kept(by_patient, upto=upto)
        evaluations: list[Evaluation] = []
        positions: dict[uuid.UUID, int] = {}
        cold = by_patient.keys() - warm.keys() - moved
        if cold:
            found, positions, own = _refold(cold, upto=upto, now=now, config=config)
            evaluations.extend(found)
            for pid in positions.keys() - cold:
                self.cache.drop(pid)  # a survivor of a merge: its fold changed too
            for pid in positions:
                warm.pop(pid, None)
            for pid, kept in own.items():
                self.cache.keep(pid, kept)
        for pid, (kept, after) in warm.items():
            if pid in moved:
                if after:
                    self.cache.keep(pid, Kept.at(kept.state, after[-1]))
                continue
            for recorded in after:
                if recorded.event.event_type not in UNREAD:
                    kept.state.apply(recorded)
            last: Place = after[-1] if after else kept
            evaluations.append(evaluate(kept.state, now, config))
            positions[pid] = last.position
            self.cache.keep(pid, Kept.at(kept.state, last))
        evaluations.sort(key=lambda e: e.patient_id)
        save(evaluations, positions=positions)

    def _kept(
        self, by_patient: dict[uuid.UUID, list[RecordedEvent]], *, upto: int
    ) -> dict[uuid.UUID, tuple[Kept[EngagementState], list[RecordedEvent]]]:
        """The kept states this batch carries on to `upto` with its own events alone, and
        those events. Every patient of the batch leaves the cache here (a failure half-way
        through folding must not leave a half-folded state behind); the handler keeps what
        it folded."""
        taken: dict[uuid.UUID, Kept[EngagementState]] = {}
        for pid, own in by_patient.items():
            kept = self.cache.take(pid)
            if (
                kept is not None
                and kept.position <= upto
                and not any(isinstance(r.event, MERGES) for r in own)
            ):
                taken[pid] = kept
        if not taken:
            return {}
        stored = _stored_at([kept.position for kept in taken.values()])
        warm = {}
        for pid, kept in taken.items():
            stream_id, place = stored.get(kept.position, (None, None))
            after = kept.carried_on_by(place if stream_id == pid else None, by_patient[pid])
            if after is not None:
                warm[pid] = (kept, after)
        return warm

    def reset(self) -> None:
        self.cache.clear()
        super().reset()

    def forget(self) -> None:
        self.cache.clear()


def _moved_on(quiet: dict[uuid.UUID, int]) -> set[uuid.UUID]:
    """Patients whose events in the batch are all of types no rule reads (UNREAD): their
    suggestions stay as they are, so only their agenda's position moves to the batch's
    last event of theirs. Left out (evaluated as usual): a patient with no agenda row
    yet, and any record merged into another, whose events count for the survivor's
    agenda. The events after a patient's last one in a batch are all later, so a
    survivor's position is its own last event's."""
    if not quiet:
        return set()
    merged = set(
        PatientProfile.objects.filter(
            patient_id__in=list(quiet), merged_into__isnull=False
        ).values_list("patient_id", flat=True)
    )
    rows = list(PatientAgenda.objects.filter(patient_id__in=[p for p in quiet if p not in merged]))
    for agenda in rows:
        agenda.position = quiet[agenda.patient_id]
    PatientAgenda.objects.bulk_update(rows, ["position"], batch_size=1000)
    return {agenda.patient_id for agenda in rows}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside a batch; what it allocates is collected after.
    A batch allocates objects by the hundred thousand (events, folds, rows) and keeps
    its folded states, so the collector, run every 700 allocations, kept walking them and
    every state already kept: a third of the follower's CPU with the cache filling
    (docs/benchmarks.md, "Lag"). The states hold no reference cycles, and nothing of a
    batch outlives it but what the cache keeps."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _stored_at(positions: list[int]) -> dict[int, tuple[uuid.UUID, Stored]]:
    """The stream and place of the events stored at these log positions."""
    rows = Event.objects.filter(position__in=positions).values_list(
        "position", "stream_id", "version", "recorded_at"
    )
    return {position: (sid, Stored(v, position, at)) for position, sid, v, at in rows}


PROJECTION = SuggestionsProjection()


# --- reading streams -----------------------------------------------------------------------


class Streams(dict[uuid.UUID, list[RecordedEvent]]):
    """Streams by patient, and the last log position of each (events no rule reads are
    counted there but not decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.last_position: dict[uuid.UUID, int] = {}
        self.last_version: dict[uuid.UUID, int] = {}
        self.last_recorded_at: dict[uuid.UUID, dt.datetime] = {}


def load_streams(
    patient_ids: Collection[uuid.UUID],
    *,
    upto: int | None = None,
    recorded_until: dt.datetime | None = None,
    with_metadata: bool = True,
) -> Streams:
    """The streams of `patient_ids` and of every record merged into them, in one query per
    level of merging; bounded by log position or by recording time (for "as of"). The
    projection, which never looks at who recorded what, reads without the metadata."""
    streams = Streams()
    wanted = set(patient_ids)
    for _ in range(_MAX_MERGE_DEPTH):
        wanted -= set(streams)
        if not wanted:
            break
        loaded: dict[uuid.UUID, list[RecordedEvent]] = {pid: [] for pid in wanted}
        for row in _stream_rows(wanted, upto, recorded_until, with_metadata):
            position, stream_id, version, event_type = row[:4]
            streams.last_position[stream_id] = position
            streams.last_version[stream_id] = version
            streams.last_recorded_at[stream_id] = row[8]
            if event_type not in UNREAD:
                loaded[stream_id].append(records.recorded(row))
        streams.update(loaded)
        wanted = {
            linked
            for stream in loaded.values()
            for recorded in stream
            if isinstance(recorded.event, MERGES)
            for linked in _links(recorded.event)
        }
    return streams


def _stream_rows(
    wanted: Collection[uuid.UUID],
    upto: int | None,
    recorded_until: dt.datetime | None,
    with_metadata: bool,
) -> Iterable[tuple[Any, ...]]:
    """Rows of `_COLUMNS` by (stream, version); the data of events no rule reads is left in
    the database."""
    if connection.vendor == "postgresql":
        # A plain psycopg cursor on Django's connection (same transaction) reading binary
        # rows, as the event store reads them: reading through the ORM was 45% of a 0.62 s
        # batch of 445 patients (docs/benchmarks-notebook.md, "Catch-up lag, before and
        # after"). No rule in it: what goes unread is UNREAD's to say.
        query = (
            "SELECT position, stream_id, version, event_type, schema_version, "
            "CASE WHEN event_type = ANY(%s) THEN NULL ELSE data END, "
            f"{'metadata' if with_metadata else 'NULL'}, occurred_at, recorded_at "
            "FROM crm_event WHERE stream_id = ANY(%s)"
        )
        params: list[Any] = [sorted(UNREAD), list(wanted)]
        if upto is not None:
            query += " AND position <= %s"
            params.append(upto)
        if recorded_until is not None:
            query += " AND recorded_at <= %s"
            params.append(recorded_until)
        with connection.wrap_database_errors, psycopg.Cursor(eventstore.pg_connection()) as cursor:
            cursor.execute(query + " ORDER BY stream_id, version", params, binary=True)
            return cursor.fetchall()
    rows = Event.objects.filter(stream_id__in=wanted)
    if upto is not None:
        rows = rows.filter(position__lte=upto)
    if recorded_until is not None:
        rows = rows.filter(recorded_at__lte=recorded_until)
    rows = rows.annotate(
        payload=Case(
            When(event_type__in=sorted(UNREAD), then=Value(None)),
            default=F("data"),
            output_field=JSONField(),
        )
    )
    return rows.order_by("stream_id", "version").values_list(*_COLUMNS)


def _links(event: ev.DomainEvent) -> Iterable[uuid.UUID]:
    if isinstance(event, ev.PatientsMerged):
        yield event.merged_patient_id
    elif isinstance(event, ev.PatientMergedInto):
        yield event.surviving_patient_id


def history_ids(
    patient_id: uuid.UUID, streams: dict[uuid.UUID, list[RecordedEvent]]
) -> list[uuid.UUID]:
    """The patient and every record merged into them (and into those, and so on)."""
    seen: list[uuid.UUID] = []
    pending = [patient_id]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.append(current)
        for recorded in streams.get(current, []):
            if isinstance(recorded.event, ev.PatientsMerged):
                pending.append(recorded.event.merged_patient_id)
    return seen


def history_of(
    patient_id: uuid.UUID, streams: dict[uuid.UUID, list[RecordedEvent]]
) -> list[RecordedEvent]:
    """The patient's own events and those of every record merged into them."""
    return [r for sid in history_ids(patient_id, streams) for r in streams.get(sid, [])]


# --- writing rows --------------------------------------------------------------------------


def refresh(
    patient_ids: Collection[uuid.UUID], *, upto: int, now: dt.datetime, config: RuleConfig
) -> int:
    """Evaluate these patients (and the survivors of any merged into others) as of log
    position `upto` and `now`, and replace their rows. Returns how many were evaluated."""
    evaluations, positions, _ = _refold(patient_ids, upto=upto, now=now, config=config)
    save(evaluations, positions=positions)
    return len(evaluations)


def _refold(
    patient_ids: Collection[uuid.UUID], *, upto: int, now: dt.datetime, config: RuleConfig
) -> tuple[list[Evaluation], dict[uuid.UUID, int], dict[uuid.UUID, Kept[EngagementState]]]:
    """Fold and evaluate these patients (and the survivors of any merged into others) from
    their whole streams: the evaluations, each one's agenda position, and the states of
    those whose history is their own stream with no merge in it (a follower may keep
    those and go on folding them)."""
    streams = load_streams(patient_ids, upto=upto, with_metadata=False)
    affected = set(patient_ids)
    for pid in patient_ids:
        # A merged-away record's change is the survivor's change too.
        for recorded in streams.get(pid, []):
            if isinstance(recorded.event, ev.PatientMergedInto):
                affected.add(recorded.event.surviving_patient_id)
    halfway = _merged_halfway(affected, streams)
    affected |= halfway
    evaluations: list[Evaluation] = []
    positions: dict[uuid.UUID, int] = {}
    own: dict[uuid.UUID, Kept[EngagementState]] = {}
    for pid in sorted(affected):
        if pid in halfway:
            # Its history already counts for the survivor: evaluated on its own as well,
            # it would raise the survivor's suggestions a second time, under the same ids.
            evaluations.append(Evaluation(pid, now, [], None))
            positions[pid] = streams.last_position.get(pid, 0)
            continue
        history = history_ids(pid, streams)
        state = fold_engagement(pid, history_of(pid, streams))
        evaluations.append(evaluate(state, now, config))
        positions[pid] = max((streams.last_position.get(s, 0) for s in history), default=0)
        at = streams.last_recorded_at.get(pid)
        if (
            history == [pid]
            and at is not None
            and not any(isinstance(r.event, MERGES) for r in streams.get(pid, []))
        ):
            own[pid] = Kept(state, streams.last_version[pid], positions[pid], at)
    return evaluations, positions, own


def _merged_halfway(
    survivors: Collection[uuid.UUID], streams: dict[uuid.UUID, list[RecordedEvent]]
) -> set[uuid.UUID]:
    """Records a survivor's stream says were merged into it while their own stream does not
    say so yet: the batch ends between the merge's two events, committed together."""
    named = {
        recorded.event.merged_patient_id
        for pid in survivors
        for recorded in streams.get(pid, [])
        if isinstance(recorded.event, ev.PatientsMerged)
    }
    return {
        pid
        for pid in named
        if not any(isinstance(r.event, ev.PatientMergedInto) for r in streams.get(pid, []))
    }


def save(evaluations: Sequence[Evaluation], *, positions: dict[uuid.UUID, int]) -> None:
    """Replace the rows of these patients (and any suggestion of theirs found elsewhere),
    and tell the agents' desks when that changed the queue (crm.desk, queue_changed)."""
    if not evaluations:
        return
    before = _replace(evaluations, positions)
    changed = queue_changes(before, [found for e in evaluations for found in e.suggestions])
    if changed:
        feed.publish(feed.QUEUE_CHANGED, changed)


# Ids a queue_changed names per list; past it the desk re-reads the queue anyway.
_MAX_NAMED = 200


def queue_changes(before: dict[str, tuple[str, str]], after: Sequence[Found]) -> dict[str, Any]:
    """What a batch did to the queue: suggestions that opened, were claimed or released,
    snoozed or woken, and closed (done, dismissed, expired, or gone). Empty: nothing."""
    active = {status.value for status in ACTIVE}
    now_active = {f.suggestion_id: (f.status.value, f.assignee) for f in after}
    lists: dict[str, list[str]] = {"created": [], "claimed": [], "snoozed": [], "closed": []}
    for sid, (status, assignee) in sorted(now_active.items()):
        old = before.get(sid)
        if status not in active:
            if old is not None and old[0] in active:
                lists["closed"].append(sid)
        elif old is None or old[0] not in active:
            lists["created"].append(sid)
        elif old[1] != assignee:
            lists["claimed"].append(sid)
        elif (old[0] == Status.SNOOZED) != (status == Status.SNOOZED):
            lists["snoozed"].append(sid)
    gone = [sid for sid, (status, _) in before.items() if status in active]
    lists["closed"] += sorted(sid for sid in gone if sid not in now_active)
    if not any(lists.values()):
        return {}
    changed: dict[str, Any] = {key: ids[:_MAX_NAMED] for key, ids in lists.items()}
    changed["truncated"] = any(len(ids) > _MAX_NAMED for ids in lists.values())
    return changed


def _replace(
    evaluations: Sequence[Evaluation], positions: dict[uuid.UUID, int]
) -> dict[str, tuple[str, str]]:
    """Write the suggestions that changed (and delete those gone) and replace the agenda
    rows; returns the status and assignee of every suggestion the rows held before.

    A row the evaluation left as it was is not written again, so it keeps the
    `evaluated_at` of the evaluation that last changed it (docs/engagement.md): rewriting
    every row of a patient, closed ones included, was a fifth of a loaded batch
    (docs/benchmarks.md, "Lag")."""
    patients = [e.patient_id for e in evaluations]
    ids = [found.suggestion_id for e in evaluations for found in e.suggestions]
    stored = {values[0]: values[1:] for values in _held(patients, ids)}
    before = {sid: (values[3], values[12]) for sid, values in stored.items()}
    unchanged: set[str] = set()
    changed: list[Evaluation] = []
    for evaluation in evaluations:
        fresh = []
        for found in evaluation.suggestions:
            old = stored.get(found.suggestion_id)
            if old is not None and _same(old, found):
                unchanged.add(found.suggestion_id)
            else:
                fresh.append(found)
        changed.append(dataclasses.replace(evaluation, suggestions=fresh))
    # A suggestion that moved to the survivor of a merge leaves the merged record's rows.
    stale = [sid for sid in stored if sid not in unchanged]
    if connection.vendor == "postgresql":
        _save_with_copy(changed, positions, stale)
        return before
    Suggestion.objects.filter(suggestion_id__in=stale).delete()
    Suggestion.objects.bulk_create(
        [row(found, e.now) for e in changed for found in e.suggestions], batch_size=1000
    )
    PatientAgenda.objects.filter(patient_id__in=patients).delete()
    PatientAgenda.objects.bulk_create(
        [agenda_row(e, positions.get(e.patient_id, 0)) for e in evaluations], batch_size=1000
    )
    return before


# What a suggestion row says, `evaluated_at` aside: equal, the row need not be written again.
_CONTENT = tuple(c for c in SUGGESTION_COLUMNS if c not in ("suggestion_id", "evaluated_at"))


def _held(patients: list[uuid.UUID], ids: list[str]) -> Iterable[tuple[Any, ...]]:
    """The rows these patients hold, and those of these ids: suggestion_id, then _CONTENT."""
    if connection.vendor == "postgresql":
        # Plain SQL, as the writes: the ORM's building and converting was half of it.
        table = Suggestion._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT suggestion_id, {', '.join(_CONTENT)} FROM {table} "
                "WHERE patient_id = ANY(%s) OR suggestion_id = ANY(%s)",
                [patients, ids],
            )
            rows: list[tuple[Any, ...]] = cursor.fetchall()
            return rows
    return (
        Suggestion.objects.filter(Q(patient_id__in=patients) | Q(suggestion_id__in=ids))
        .order_by()
        .values_list("suggestion_id", *_CONTENT)
    )


def _same(stored: tuple[Any, ...], found: Found) -> bool:
    """Whether the row holds exactly what `found` would write (JSON compared as text with
    sorted keys, so 1 and true, or 1 and 1.0, never pass for each other)."""
    return stored[:15] == (
        found.patient_id,
        found.kind.value,
        found.priority,
        found.status.value,
        found.opened_at,
        found.due_at,
        found.reason,
        found.closed_at,
        found.closed_by,
        found.closed_reason,
        found.paused_reason,
        found.outcome,
        found.assignee,
        found.claimed_until,
        found.snoozed_until,
    ) and (_canonical(stored[15]), _canonical(stored[16])) == (
        _canonical(evidence_json(found)),
        _canonical(found.payload),
    )


def _canonical(value: Any) -> str:
    # Django's PostgreSQL connection hands jsonb over as text; the ORM decodes it.
    return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True)


def _save_with_copy(
    evaluations: Sequence[Evaluation], positions: dict[uuid.UUID, int], stale: list[str]
) -> None:
    """`_replace`'s writes on PostgreSQL: deletes with array parameters and COPY, in the
    same text the bulk re-evaluation writes: the ORM's delete and bulk_create were 30% of
    a 0.62 s batch of 445 patients (docs/benchmarks-notebook.md, "Catch-up lag, before
    and after")."""
    suggestions, agenda = io.StringIO(), io.StringIO()
    for evaluation in evaluations:
        emit = copy_writer(suggestions, agenda, evaluation.now)
        emit(evaluation, positions.get(evaluation.patient_id, 0))
    patients = [e.patient_id for e in evaluations]
    table, agenda_table = Suggestion._meta.db_table, PatientAgenda._meta.db_table
    with connection.cursor() as cursor:
        if stale:
            cursor.execute(f"DELETE FROM {table} WHERE suggestion_id = ANY(%s)", [stale])
        cursor.execute(f"DELETE FROM {agenda_table} WHERE patient_id = ANY(%s)", [patients])
        for name, columns, text in (
            (table, SUGGESTION_COLUMNS, suggestions),
            (agenda_table, AGENDA_COLUMNS, agenda),
        ):
            if text.tell():
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write(text.getvalue())


def agenda_row(evaluation: Evaluation, position: int) -> PatientAgenda:
    return PatientAgenda(
        patient_id=evaluation.patient_id,
        next_evaluation_at=evaluation.next_change_at,
        evaluated_at=evaluation.now,
        position=position,
    )


def row(found: Found, now: dt.datetime) -> Suggestion:
    return Suggestion(
        suggestion_id=found.suggestion_id,
        patient_id=found.patient_id,
        kind=found.kind.value,
        priority=found.priority,
        status=found.status.value,
        opened_at=found.opened_at,
        due_at=found.due_at,
        reason=found.reason,
        closed_at=found.closed_at,
        closed_by=found.closed_by,
        closed_reason=found.closed_reason,
        paused_reason=found.paused_reason,
        outcome=found.outcome,
        assignee=found.assignee,
        claimed_until=found.claimed_until,
        snoozed_until=found.snoozed_until,
        evidence=evidence_json(found),
        payload=found.payload,
        evaluated_at=now,
    )


# --- the clock's part ----------------------------------------------------------------------


def reevaluate_due(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Re-evaluate every patient whose suggestions change with the clock by `now`, in
    batches of `limit`, as of the projection's checkpoint. Returns how many were evaluated.
    Takes the projection's lock, so it never interleaves with a catch-up batch."""
    moment = now or timezone.now()
    config = rule_config()
    total = 0
    while True:
        with transaction.atomic():
            if not runner.try_lock(NAME):
                return total  # a catch-up batch is running; the next minute's run goes on
            upto = runner.checkpoint_of(NAME)
            due = list(
                PatientAgenda.objects.filter(next_evaluation_at__lte=moment)
                .exclude(patient_id__in=parking.parked_streams(NAME))
                .order_by("next_evaluation_at")
                .values_list("patient_id", flat=True)[:limit]
            )
            if not due:
                return total
            total += refresh_apart(due, upto=upto, now=moment, config=config)
        if len(due) < limit:
            return total


def refresh_apart(due: list[uuid.UUID], *, upto: int, now: dt.datetime, config: RuleConfig) -> int:
    """`refresh`, and if that fails, one patient at a time: a patient whose evaluation
    fails is parked (I11) instead of holding back everyone else's clock."""
    try:
        with transaction.atomic():
            return refresh(due, upto=upto, now=now, config=config)
    except Exception as exc:
        if runner.the_databases_trouble(exc):
            raise
        PROJECTION.forget()
    done = 0
    for pid in due:
        try:
            with transaction.atomic():
                done += refresh([pid], upto=upto, now=now, config=config)
        except Exception as exc:
            if runner.the_databases_trouble(exc):
                raise
            logger.exception("suggestions: re-evaluating patient %s failed; parking it", pid)
            position = (
                PatientAgenda.objects.filter(patient_id=pid)
                .values_list("position", flat=True)
                .first()
            )
            parking.park_at(
                NAME, pid, position=position or 1, event_type="", error=records.describe(exc)
            )
    return done


def grouped(rows: Iterable[Suggestion]) -> dict[uuid.UUID, list[Suggestion]]:
    by_patient: defaultdict[uuid.UUID, list[Suggestion]] = defaultdict(list)
    for suggestion in rows:
        by_patient[suggestion.patient_id].append(suggestion)
    return dict(by_patient)
