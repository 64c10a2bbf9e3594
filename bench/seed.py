"""Seeding patient streams through `crm.eventstore.append`, the only writer of the log.

Several spawned processes write at once; each appends whole streams (one append call per
stream) a few streams per transaction, and writes each patient's profile through the
profile projection in the same transaction, as the command handlers do.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import psycopg

from bench.database import conninfo, setup_django

STREAMS_PER_TRANSACTION = 25


@dataclass(frozen=True, slots=True)
class SeedJob:
    url: str
    min_length: int
    max_length: int
    events: int | None = None  # stop after exactly this many events...
    patients: int | None = None  # ...or after this many patients
    return_ids: bool = False


def count_events(url: str) -> int:
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute("SELECT count(*) FROM crm_event").fetchone()
    assert row is not None
    return int(row[0])


def seed(
    url: str,
    *,
    processes: int,
    min_length: int,
    max_length: int,
    events: int | None = None,
    patients: int | None = None,
    label: str = "seeding",
) -> list[uuid.UUID]:
    """Append new patient streams until `events` events or `patients` patients are added.

    Returns the new patients' ids when seeding by patients (the commands benchmark needs
    them); seeding by events returns an empty list.
    """
    if (events is None) == (patients is None):
        raise ValueError("seed either a number of events or a number of patients")
    total = events if events is not None else patients
    assert total is not None
    processes = max(1, min(processes, total))
    shares = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
    ctx = mp.get_context("spawn")
    progress = ctx.Value("q", 0)
    results: Any = ctx.Queue()
    jobs = [
        SeedJob(
            url=url,
            min_length=min_length,
            max_length=max_length,
            events=share if events is not None else None,
            patients=share if patients is not None else None,
            return_ids=patients is not None,
        )
        for share in shares
    ]
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


def _stop(workers: Sequence[mp.process.BaseProcess]) -> None:
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _seed_worker(job: SeedJob, progress: Synchronized[int], results: Any) -> None:
    try:
        ids = _seed(job, progress)
    except BaseException:
        import traceback

        results.put(traceback.format_exc())
        raise
    results.put([str(i) for i in ids] if job.return_ids else [])


def _seed(job: SeedJob, progress: Synchronized[int]) -> list[uuid.UUID]:
    setup_django(job.url)
    from django.db import connection, transaction
    from django.utils import timezone

    from bench import streams
    from crm import eventstore
    from crm.domain.state import fold
    from crm.eventstore import NewEvent
    from crm.projections.profile import save_profile

    rng = random.Random()  # fresh entropy: a top-up run must not reuse earlier stream ids
    now = timezone.now()
    ids: list[uuid.UUID] = []
    events_left = job.events
    patients_left = job.patients
    while (events_left is None or events_left > 0) and (patients_left is None or patients_left > 0):
        # Generate first, append after: appends hold the store's global append lock from
        # the first INSERT to COMMIT, so the other seeders can generate meanwhile.
        batch: list[tuple[uuid.UUID, list[streams.Happened]]] = []
        while len(batch) < STREAMS_PER_TRANSACTION and patients_left != 0:
            length = rng.randint(job.min_length, job.max_length)
            if events_left is not None:
                length = min(length, events_left)
                if length <= 0:
                    break
                events_left -= length
            if patients_left is not None:
                patients_left -= 1
            patient_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            batch.append((patient_id, streams.patient_stream(rng, length=length, now=now)))
        with transaction.atomic(durable=True):
            for patient_id, history in batch:
                appended = eventstore.append(
                    patient_id,
                    [NewEvent(event, at) for event, at in history],
                    expected_version=0,
                    metadata=streams.metadata(rng),
                )
                save_profile(fold(patient_id, appended.events))
        ids.extend(patient_id for patient_id, _ in batch)
        with progress.get_lock():
            progress.value += (
                sum(len(history) for _, history in batch) if job.events is not None else len(batch)
            )
    connection.close()
    return ids if job.return_ids else []
