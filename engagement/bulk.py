"""Full re-evaluation of every patient in bulk: one ordered pass over the log, fold and evaluate
in Python, COPY the rows in, checkpoint moved in the same transaction (docs/engagement.md)."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing as mp
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from django.db import connection, transaction

from crm import eventstore
from crm.models import Event
from crm.projections import parking, runner
from engagement.conf import rule_config
from engagement.domain.config import RuleConfig
from engagement.domain.suggestions import Evaluation
from engagement.models import PatientAgenda, Suggestion
from engagement.passes import (
    AGENDA_COLUMNS,
    SUGGESTION_COLUMNS,
    Pass,
    Share,
    postgres_pass,
    run_pass,
)
from engagement.projection import NAME, agenda_row, refresh_apart, row

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BulkResult:
    patients: int
    events: int
    suggestions: int
    position: int
    seconds: float


def evaluate_all(*, now: dt.datetime, processes: int = 1) -> BulkResult:
    """Evaluate every patient at `now` from the whole log; replace every row.

    One transaction under the projection's lock (I6), so catch-up carries on from the last
    position read. On PostgreSQL the pass can be split over worker processes by ranges of
    patient ids, each writing COPY text to a file the parent loads. Records that were
    merged (either side) are left out of the pass and evaluated afterwards with their
    merged history, as the projection does.
    """
    started = time.monotonic()
    config = rule_config()
    with transaction.atomic():
        runner.lock(NAME)
        upto = eventstore.last_position()
        if connection.vendor == "postgresql":
            # The COPY files go with the directory, whether the pass succeeds or not.
            with tempfile.TemporaryDirectory(prefix="engagement-bulk-") as directory:
                passes = _postgres_passes(upto, now, config, processes, directory)
                _replace_with_copy(passes)
        else:
            passes = [_orm_pass(upto, now, config)]
        # Like a rebuild, the pass starts over: it parks anew what it could not evaluate.
        parking.clear(NAME)
        for one in passes:
            for stream_id, position, event_type, error in one.parked:
                logger.error(
                    "suggestions: parking stream %s at #%s: %s", stream_id, position, error
                )
                parking.park_at(
                    NAME, stream_id, position=position, event_type=event_type, error=error[:2000]
                )
        deferred = [pid for one in passes for pid in one.deferred]
        merged = _evaluate_merged(deferred, upto, now, config)
        runner.set_checkpoint(NAME, upto)
    return BulkResult(
        patients=sum(p.patients for p in passes) + len(deferred),
        events=sum(p.events for p in passes),
        suggestions=sum(p.suggestions for p in passes) + merged,
        position=upto,
        seconds=time.monotonic() - started,
    )


def _evaluate_merged(
    patient_ids: list[uuid.UUID], upto: int, now: dt.datetime, config: RuleConfig
) -> int:
    if not patient_ids:
        return 0
    refresh_apart(patient_ids, upto=upto, now=now, config=config)
    return Suggestion.objects.filter(patient_id__in=patient_ids).count()


# --- SQLite (and small databases): the ORM ---------------------------------------------------


def _orm_pass(upto: int, now: dt.datetime, config: RuleConfig) -> Pass:
    Suggestion.objects.all().delete()
    PatientAgenda.objects.all().delete()
    suggestions: list[Suggestion] = []
    agendas: list[PatientAgenda] = []

    def emit(evaluation: Evaluation, position: int) -> None:
        suggestions.extend(row(found, now) for found in evaluation.suggestions)
        agendas.append(agenda_row(evaluation, position))
        if len(suggestions) >= 5000:
            flush()

    def flush() -> None:
        Suggestion.objects.bulk_create(suggestions, batch_size=1000)
        PatientAgenda.objects.bulk_create(agendas, batch_size=1000)
        suggestions.clear()
        agendas.clear()

    rows = (
        Event.objects.filter(position__lte=upto)
        .order_by("stream_id", "version")
        .values_list(
            "position",
            "stream_id",
            "version",
            "event_type",
            "schema_version",
            "data",
            "occurred_at",
            "recorded_at",
        )
    )
    result = run_pass(rows.iterator(chunk_size=5000), now, config, emit)
    flush()
    return result


# --- PostgreSQL: worker processes, COPY ------------------------------------------------------


def _postgres_passes(
    upto: int, now: dt.datetime, config: RuleConfig, processes: int, directory: str
) -> list[Pass]:
    params = dict(connection.get_connection_params())
    params.pop("cursor_factory", None)
    params.pop("context", None)
    step = (1 << 128) // processes
    shares = [
        Share(
            conninfo=params,
            upto=upto,
            low=uuid.UUID(int=i * step),
            high=None if i == processes - 1 else uuid.UUID(int=(i + 1) * step),
            now=now,
            config=config,
            directory=directory,
        )
        for i in range(processes)
    ]
    if processes == 1:
        # In-process, on this transaction's own connection (it sees what it wrote).
        connection.ensure_connection()
        return [postgres_pass(shares[0], connection.connection)]
    # Not multiprocessing.Pool: when a worker dies (killed, out of memory) its Pool hangs
    # forever with this transaction open; the executor raises BrokenProcessPool instead.
    with ProcessPoolExecutor(processes, mp_context=mp.get_context("spawn")) as pool:
        return list(pool.map(postgres_pass, shares))


# COPY, not bulk_create: part of the 37 s full re-evaluation (docs/benchmarks.md, "suggestions").
def _replace_with_copy(passes: list[Pass]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Suggestion._meta.db_table}")
        cursor.execute(f"DELETE FROM {PatientAgenda._meta.db_table}")
        for table, columns, attribute in (
            (Suggestion._meta.db_table, SUGGESTION_COLUMNS, "suggestion_file"),
            (PatientAgenda._meta.db_table, AGENDA_COLUMNS, "agenda_file"),
        ):
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            for one in passes:
                path = getattr(one, attribute)
                with cursor.copy(statement) as copy, open(path, encoding="utf-8") as source:
                    while block := source.read(1 << 20):
                        copy.write(block)
