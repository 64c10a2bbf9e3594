"""One pass over a share of the log for the bulk re-evaluation, in plain Python (no Django):
spawned worker processes import only this, the domain and psycopg."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from crm.domain.events import (
    DomainEvent,
    PatientMergedInto,
    PatientsMerged,
    load_stored,
)
from crm.domain.recorded import RecordedEvent
from engagement.domain.config import RuleConfig
from engagement.domain.evaluate import evaluate
from engagement.domain.state import fold_engagement
from engagement.domain.suggestions import Evaluation
from engagement.domain.suggestions import Suggestion as Found

# Either side of a merge: such a stream's history is not its own.
MERGES: tuple[type[DomainEvent], ...] = (PatientsMerged, PatientMergedInto)
_MERGE_TYPES = frozenset(cls.event_type for cls in MERGES)
# Events no rule reads (neither the engagement fold nor the parts of crm's state the rules
# use): the pass does not even decode them. A rule that starts reading one of these must
# take it off this list; tests/engagement/test_projection.py folds them in to catch that.
UNREAD = frozenset({"NoteAdded", "DemographicsChanged", "SmsDelivered", "SatisfactionRecorded"})
# Plain SQL on a psycopg cursor, no Django: the full re-evaluation reads 2,006,387 events in
# 37 s (docs/benchmarks.md, "suggestions"); which events go unread is UNREAD's to say.
_SELECT = (
    "SELECT position, stream_id, version, event_type, schema_version, "
    "CASE WHEN event_type = ANY(%s) THEN NULL ELSE data END, occurred_at, recorded_at "
    "FROM crm_event WHERE position <= %s"
)
Row = tuple[Any, ...]


@dataclass(slots=True)
class Pass:
    """What one pass over a share of the log produced."""

    patients: int = 0
    events: int = 0
    suggestions: int = 0
    deferred: list[uuid.UUID] = dataclasses.field(default_factory=list)
    # Streams that could not be read or evaluated: (stream, position, event type, error).
    parked: list[tuple[uuid.UUID, int, str, str]] = dataclasses.field(default_factory=list)
    suggestion_file: str = ""
    agenda_file: str = ""


@dataclass(frozen=True, slots=True)
class Share:
    conninfo: dict[str, Any]
    upto: int
    low: uuid.UUID
    high: uuid.UUID | None
    now: dt.datetime
    config: RuleConfig
    directory: str


def by_stream(rows: Iterable[Row]) -> Iterator[tuple[uuid.UUID, list[Row]]]:
    current: uuid.UUID | None = None
    batch: list[Row] = []
    for item in rows:
        stream_id = item[1]
        if stream_id != current:
            if current is not None:
                yield current, batch
            current, batch = stream_id, []
        batch.append(item)
    if current is not None:
        yield current, batch


def run_pass(
    rows: Iterable[Row],
    now: dt.datetime,
    config: RuleConfig,
    emit: Callable[[Evaluation, int], None],
) -> Pass:
    """Fold and evaluate each stream of `rows` (ordered by stream, version) and `emit` it;
    streams touched by a merge are left for the caller, which evaluates them with their
    merged history."""
    result = Pass()
    for stream_id, stream in by_stream(rows):
        result.events += len(stream)
        if any(item[3] in _MERGE_TYPES for item in stream):
            result.deferred.append(stream_id)
            continue
        item = stream[0]
        try:
            recorded = []
            for item in stream:
                if item[3] not in UNREAD:
                    recorded.append(_recorded(item))
            item = stream[0]  # a failing fold holds back the whole stream
            evaluation = evaluate(fold_engagement(stream_id, recorded), now, config)
        except Exception as exc:  # one stream's failure is parked, never the pass's (I11)
            result.parked.append((stream_id, item[0], item[3], f"{type(exc).__name__}: {exc}"))
            continue
        result.patients += 1
        result.suggestions += len(evaluation.suggestions)
        emit(evaluation, stream[-1][0])
    return result


def _recorded(item: Row) -> RecordedEvent:
    return RecordedEvent(
        position=item[0],
        stream_id=item[1],
        version=item[2],
        event=load_stored(item[3], item[4], _data(item[5])),
        occurred_at=item[6],
        recorded_at=item[7],
    )


def postgres_pass(share: Share, conn: Any = None) -> Pass:
    """One share of the patients, [low, high) by id. Needs no Django: a spawned worker
    connects on its own; in-process, the caller passes its connection."""
    import psycopg

    tag = f"{share.low.int:032x}"[:8]
    suggestion_path = os.path.join(share.directory, f"suggestions-{tag}.copy")
    agenda_path = os.path.join(share.directory, f"agenda-{tag}.copy")
    query = _SELECT + " AND stream_id >= %s" + (" AND stream_id < %s" if share.high else "")
    query += " ORDER BY stream_id, version"
    args: list[Any] = [sorted(UNREAD), share.upto, share.low]
    args += [share.high] if share.high else []
    own = conn is None
    if own:
        conn = psycopg.connect(**share.conninfo)
        conn.execute("SET TIME ZONE 'UTC'")
    try:
        with (
            open(suggestion_path, "w", encoding="utf-8") as suggestions,
            open(agenda_path, "w", encoding="utf-8") as agenda,
            conn.cursor(name=f"engagement_bulk_{tag}") as cursor,
        ):
            cursor.itersize = 10_000
            cursor.execute(query, args)
            emit = copy_writer(suggestions, agenda, share.now)
            result: Pass = run_pass(cursor, share.now, share.config, emit)
    finally:
        if own:
            conn.close()
    result.suggestion_file, result.agenda_file = suggestion_path, agenda_path
    return result


# The columns of the COPY text `copy_writer` writes, in its order.
SUGGESTION_COLUMNS = (
    "suggestion_id",
    "patient_id",
    "kind",
    "priority",
    "status",
    "opened_at",
    "due_at",
    "reason",
    "closed_at",
    "closed_by",
    "closed_reason",
    "paused_reason",
    "outcome",
    "assignee",
    "claimed_until",
    "snoozed_until",
    "evidence",
    "payload",
    "evaluated_at",
)
AGENDA_COLUMNS = ("patient_id", "next_evaluation_at", "evaluated_at", "position")


def copy_writer(
    suggestions: IO[str], agenda: IO[str], now: dt.datetime
) -> Callable[[Evaluation, int], None]:
    """Writes an evaluation's rows (and its agenda row at a log position) as COPY text."""
    evaluated = now.isoformat()

    def emit(evaluation: Evaluation, position: int) -> None:
        lines = []
        for f in evaluation.suggestions:
            # Ids, kinds, statuses and times never hold a tab, a newline or a backslash;
            # only the texts (and the JSON) are escaped.
            lines.append(
                f"{f.suggestion_id}\t{f.patient_id}\t{f.kind.value}\t{f.priority}\t"
                f"{f.status.value}\t{f.opened_at.isoformat()}\t{f.due_at.isoformat()}\t"
                f"{_text(f.reason)}\t{_moment(f.closed_at)}\t{f.closed_by}\t"
                f"{_text(f.closed_reason)}\t{_text(f.paused_reason)}\t{_text(f.outcome)}\t"
                f"{_text(f.assignee)}\t{_moment(f.claimed_until)}\t{_moment(f.snoozed_until)}\t"
                f"{_text(json.dumps(evidence_json(f)))}\t{_text(json.dumps(f.payload))}\t"
                f"{evaluated}\n"
            )
        suggestions.writelines(lines)
        agenda.write(
            f"{evaluation.patient_id}\t{_moment(evaluation.next_change_at)}\t{evaluated}\t"
            f"{position}\n"
        )

    return emit


def _moment(value: dt.datetime | None) -> str:
    return "\\N" if value is None else value.isoformat()


def _text(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def evidence_json(found: Found) -> list[dict[str, Any]]:
    """A suggestion's evidence as stored in its row (and shown by the API)."""
    return [
        {
            "patient_id": str(e.patient_id),
            "version": e.version,
            "event_type": e.event_type,
            "occurred_at": e.occurred_at.astimezone(dt.UTC).isoformat(),
        }
        for e in found.evidence
    ]


def _data(value: Any) -> Any:
    # Django's connection hands jsonb over as text (it decodes JSON itself); psycopg's own
    # connections decode it.
    return json.loads(value) if isinstance(value, str) else value
