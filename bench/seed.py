"""Seeding patient streams through `crm.eventstore.append` from several processes, each
profile saved in the same transaction, as the command handlers do (or by COPY: bench.copyseed)."""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from typing import TYPE_CHECKING, Any

import psycopg

from bench.database import conninfo, setup_django

if TYPE_CHECKING:
    from bench.streams import Happened

STREAMS_PER_TRANSACTION = 25


@dataclass(frozen=True, slots=True)
class SeedJob:
    url: str
    min_length: int
    max_length: int
    patients: int | None  # this many streams...
    events: int | None  # ...adding up to this many events (either may be left open)
    phones: tuple[str, ...] | None  # the numbers patients draw from (default: a few hundred)
    copy: bool = False  # load the same rows with COPY (bench.copyseed) instead of appending


def counts(url: str) -> tuple[int, int]:
    """How many patients (profiles) and events the database holds."""
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM crm_patient_profile), (SELECT count(*) FROM crm_event)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def lengths(
    rng: random.Random,
    *,
    min_length: int,
    max_length: int,
    patients: int | None = None,
    events: int | None = None,
) -> Iterator[int]:
    """Stream lengths between `min_length` and `max_length`: `patients` of them, adding up
    to `events`. Without `patients`, as many as `events` needs (the last may be shorter);
    without `events`, `patients` lengths at random."""
    if events is None:
        for _ in range(patients or 0):
            yield rng.randint(min_length, max_length)
    elif patients is None:
        while events > 0:
            length = min(rng.randint(min_length, max_length), events)
            events -= length
            yield length
    else:
        for left in range(patients, 0, -1):
            low = max(min_length, events - (left - 1) * max_length)
            high = min(max_length, events - (left - 1) * min_length)
            length = min(max(rng.randint(min_length, max_length), low), high)
            events -= length
            yield length


def seed(
    url: str,
    *,
    processes: int,
    min_length: int,
    max_length: int,
    events: int | None = None,
    patients: int | None = None,
    phones: Sequence[str] | None = None,
    label: str = "seeding",
    copy: bool = False,
) -> list[uuid.UUID]:
    """Append new patient streams: `patients` of them, or `events` events, or both at once.

    Returns the new patients' ids (the commands benchmark needs them). `phones` are the
    numbers the patients are given, one each at random (bench.dataset passes its own).
    `copy=True` stores the same rows with COPY, several times faster (bench.copyseed).
    """
    if events is None and patients is None:
        raise ValueError("seed a number of events, a number of patients, or both")
    total = events if events is not None else patients
    assert total is not None
    if not total:
        return []
    processes = max(1, min(processes, patients if patients is not None else total))
    jobs = [
        SeedJob(
            url=url,
            min_length=min_length,
            max_length=max_length,
            patients=None if patients is None else _share(patients, processes, i),
            events=None if events is None else _share(events, processes, i),
            phones=None if phones is None else tuple(phones),
            copy=copy,
        )
        for i in range(processes)
    ]
    ctx = mp.get_context("spawn")
    progress = ctx.Value("q", 0)
    results: Any = ctx.Queue()
    workers = [ctx.Process(target=_seed_worker, args=(job, progress, results)) for job in jobs]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    ids: list[uuid.UUID] = []
    pending = len(workers)
    last_report = started
    while pending:
        try:
            message = results.get(timeout=1.0)
        except queue.Empty:  # nothing finished yet: report progress, look for a crash
            message = None
        if message is not None:
            pending -= 1
            if isinstance(message, str):
                _stop(workers)
                raise RuntimeError(f"a seeding process failed:\n{message}")
            ids.extend(uuid.UUID(value) for value in message)
        elif any(w.exitcode not in (None, 0) for w in workers):
            _stop(workers)
            raise RuntimeError("a seeding process died; see its traceback above")
        now = time.monotonic()
        if now - last_report >= 10 or not pending:
            last_report = now
            done = progress.value
            rate = done / max(now - started, 1e-9)
            unit = "events" if events is not None else "patients"
            print(
                f"  {label}: {done:,}/{total:,} {unit} ({rate:,.0f}/s)", file=sys.stderr, flush=True
            )
    for worker in workers:
        worker.join()
    return ids


def _share(total: int, processes: int, i: int) -> int:
    return total // processes + (1 if i < total % processes else 0)


def _stop(workers: Sequence[mp.process.BaseProcess]) -> None:
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _seed_worker(job: SeedJob, progress: Synchronized[int], results: Any) -> None:
    try:
        if job.copy:
            from bench.copyseed import seed_by_copy

            ids = seed_by_copy(job, progress)
        else:
            ids = _seed(job, progress)
    except BaseException:
        import traceback

        results.put(traceback.format_exc())
        raise
    results.put([str(i) for i in ids])


def append_stream(patient_id: uuid.UUID, history: list[Happened], metadata: dict[str, Any]) -> None:
    """A new patient's stream appended at version 0, its profile projected in the same
    transaction (the caller's), as the command handlers do."""
    from crm import eventstore
    from crm.domain.state import fold
    from crm.eventstore import NewEvent
    from crm.projections.profile import save_profile

    appended = eventstore.append(
        patient_id,
        [NewEvent(event, at) for event, at in history],
        expected_version=0,
        metadata=metadata,
    )
    save_profile(fold(patient_id, appended.events))


def _seed(job: SeedJob, progress: Synchronized[int]) -> list[uuid.UUID]:
    setup_django(job.url)
    from django.db import connection, transaction
    from django.utils import timezone

    from bench import streams

    rng = random.Random()  # fresh entropy: a top-up run must not reuse earlier stream ids
    now = timezone.now()
    planned = lengths(
        rng,
        min_length=job.min_length,
        max_length=job.max_length,
        patients=job.patients,
        events=job.events,
    )
    ids: list[uuid.UUID] = []
    while True:
        # Generate first, append after: appends hold the store's global append lock from
        # the first INSERT to COMMIT, so the other seeders can generate meanwhile.
        batch: list[tuple[uuid.UUID, list[streams.Happened]]] = []
        for length in planned:
            patient_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            phone = rng.choice(job.phones) if job.phones else None
            batch.append(
                (patient_id, streams.patient_stream(rng, length=length, now=now, phone=phone))
            )
            if len(batch) == STREAMS_PER_TRANSACTION:
                break
        if not batch:
            break
        with transaction.atomic(durable=True):
            for patient_id, history in batch:
                append_stream(patient_id, history, streams.metadata(rng))
        ids.extend(patient_id for patient_id, _ in batch)
        with progress.get_lock():
            progress.value += (
                sum(len(history) for _, history in batch) if job.events is not None else len(batch)
            )
    connection.close()
    return ids
