"""Closed-loop load from N client processes: warm up, then count what completes in a window."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import queue
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.database import conninfo, setup_django

RAW_TABLE = "bench_raw_insert"
SETUP_TIMEOUT = 120.0  # seconds a client may take to start, set Django up and connect


@dataclass(frozen=True, slots=True)
class LoadJob:
    kind: str  # "commands", "peer" (bench.peer), "floor" (bench.floor) or "raw_insert"
    url: str
    client: int
    warmup: float
    duration: float
    own_patients: tuple[str, ...] = ()
    all_patients: tuple[str, ...] = ()
    overlap: float = 0.0  # share of commands aimed at any patient, not the client's own


@dataclass(slots=True)
class ClientResult:
    client: int
    completed: int = 0
    refused: int = 0  # commands that still conflicted after the handler's retries
    kinds: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LoadResult:
    kind: str
    clients: int
    duration: float
    completed: int
    refused: int
    kinds: dict[str, int]
    p50_ms: float
    p99_ms: float
    load_before: float  # 1-minute load average when the run started: how busy the box was

    @property
    def rate(self) -> float:
        return self.completed / self.duration


def ensure_raw_table(url: str) -> None:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} ("
            "id bigserial PRIMARY KEY, client integer NOT NULL, n bigint NOT NULL, "
            "payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(f"TRUNCATE {RAW_TABLE}")


def run_load(
    kind: str,
    url: str,
    *,
    clients: int,
    warmup: float,
    duration: float,
    patients: list[str] | None = None,
    overlap: float = 0.0,
) -> LoadResult:
    """Run `clients` processes of `kind` for `warmup` + `duration` seconds.

    Each client is a spawned process that sets Django (or plain psycopg) up itself, with its
    own connection. All start together on a barrier; only operations that complete inside
    the measured window count, each with its latency for the percentiles.
    """
    everyone = tuple(patients or ())
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(clients)
    results: Any = ctx.Queue()
    jobs = [
        LoadJob(
            kind=kind,
            url=url,
            client=i,
            warmup=warmup,
            duration=duration,
            own_patients=everyone[i::clients],
            all_patients=everyone,
            overlap=overlap,
        )
        for i in range(clients)
    ]
    load_before = os.getloadavg()[0]
    workers = [ctx.Process(target=_client, args=(job, barrier, results)) for job in jobs]
    for worker in workers:
        worker.start()
    collected: list[ClientResult] = []
    deadline = time.monotonic() + SETUP_TIMEOUT + warmup + duration + 60
    while len(collected) < clients:
        try:
            collected.append(results.get(timeout=max(deadline - time.monotonic(), 0.1)))
        except queue.Empty:
            for worker in workers:
                worker.terminate()
            raise RuntimeError(f"{kind}: clients did not finish in time") from None
    for worker in workers:
        worker.join()
    errors = [r.error for r in collected if r.error]
    if errors:
        raise RuntimeError(f"{kind}: a client failed:\n{errors[0]}")
    latencies = sorted(x for r in collected for x in r.latencies)
    kinds: Counter[str] = Counter()
    for r in collected:
        kinds.update(r.kinds)
    return LoadResult(
        kind=kind,
        clients=clients,
        duration=duration,
        completed=sum(r.completed for r in collected),
        refused=sum(r.refused for r in collected),
        kinds=dict(kinds),
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        load_before=load_before,
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _client(job: LoadJob, barrier: Any, results: Any) -> None:
    result = ClientResult(client=job.client)
    try:
        operation, expected = _operation(job)
        operation()  # connect and warm the caches before the clock starts
        barrier.wait(timeout=SETUP_TIMEOUT)
        start = time.monotonic()
        window_start = start + job.warmup
        window_end = window_start + job.duration
        while True:
            before = time.monotonic()
            try:
                kind = operation()
            except expected:
                kind = None
            after = time.monotonic()
            if after >= window_end:
                break
            if after >= window_start:
                if kind is None:
                    result.refused += 1
                else:
                    result.completed += 1
                    result.kinds[kind] += 1
                    result.latencies.append(after - before)
    except BaseException:
        import traceback

        result.error = traceback.format_exc()
        barrier.abort()
    results.put(result)


Operation = Callable[[], str]


def _operation(job: LoadJob) -> tuple[Operation, type[Exception]]:
    if job.kind == "raw_insert":
        return _raw_insert(job)
    if job.kind == "floor":
        from bench import floor

        setup_django(job.url)
        return floor.statements(job.url, job.own_patients), _NeverRaised
    if job.kind == "peer":
        from bench import peer

        return peer.command_mix(
            job.url, job.client, job.own_patients, job.all_patients, job.overlap
        )
    return _command_mix(job)


def _raw_insert(job: LoadJob) -> tuple[Operation, type[Exception]]:
    """One small row per autocommit transaction: the most a client can commit per second."""
    conn = psycopg.connect(conninfo(job.url), autocommit=True)
    statement = f"INSERT INTO {RAW_TABLE} (client, n, payload) VALUES (%s, %s, %s)"
    payload = "x" * 64
    counter = iter(range(1 << 62))

    def insert() -> str:
        conn.execute(statement, (job.client, next(counter), payload))
        return "insert"

    return insert, _NeverRaised


class _NeverRaised(Exception):
    pass


def _command_mix(job: LoadJob) -> tuple[Operation, type[Exception]]:
    """An agent desk's mix through the real handlers: mostly calls, some notes and bookings."""
    setup_django(job.url)
    from django.utils import timezone

    from bench import streams
    from crm import handlers
    from crm.domain import events as ev
    from crm.eventstore import ConcurrencyConflict

    rng = random.Random(job.client)
    own = [uuid.UUID(p) for p in job.own_patients]
    everyone = [uuid.UUID(p) for p in job.all_patients]
    actor = handlers.Actor(name=f"agent.bench{job.client}", channel="api", role="agent")
    appointment_types = list(ev.AppointmentType)

    def command() -> str:
        pool = everyone if rng.random() < job.overlap else own
        patient_id = pool[rng.randrange(len(pool))]
        roll = rng.random()
        now = timezone.now()
        if roll < 0.75:
            connected = rng.random() < 0.7
            duration = rng.randint(60, 900) if connected else rng.randint(0, 45)
            handlers.call_log(
                patient_id=patient_id,
                direction=rng.choice([ev.CallDirection.INBOUND, ev.CallDirection.OUTBOUND]),
                started_at=now - dt.timedelta(seconds=duration + rng.randint(5, 600)),
                duration_seconds=duration,
                disposition=ev.CallDisposition.CONNECTED
                if connected
                else ev.CallDisposition.VOICEMAIL,
                actor=actor,
                reason=rng.choice(streams.REASONS),
                resolved_first_contact=connected and rng.random() < 0.6,
                hold_seconds=min(duration, rng.randint(0, 120)),
                wrap_up_seconds=rng.randint(0, 90),
            )
            return "call_log"
        if roll < 0.90:
            handlers.note_add(
                patient_id=patient_id,
                text=rng.choice(streams.NOTES),
                actor=actor,
                restricted=rng.random() < 0.1,
            )
            return "note_add"
        handlers.appointment_schedule(
            patient_id=patient_id,
            appointment_type=rng.choice(appointment_types),
            starts_at=(now + dt.timedelta(days=rng.randint(1, 60))).replace(
                minute=0, second=0, microsecond=0
            ),
            provider=rng.choice(streams.PROVIDERS),
            location=rng.choice(streams.LOCATIONS),
            actor=actor,
            now=now,
        )
        return "appointment_schedule"

    return command, ConcurrencyConflict
