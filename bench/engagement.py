"""`suggestions`: the full re-evaluation of every patient, and the catch-up lag from an append
to its suggestion while clients append (docs/benchmarks.md, Suggestions)."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing as mp
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psutil
import psycopg

from bench import dataset
from bench.database import PROJECT_DIR, conninfo, django_env, prepare, setup_django
from bench.load import run_load
from bench.report import Report, Table, Target

TARGET_SECONDS = 60.0
PROBE_PATIENTS = 50
# How long a probe waits for its suggestion after the last call is appended.
PROBE_TIMEOUT = 60.0
LOAD_PATIENTS = 4000


@dataclass(frozen=True, slots=True)
class EngagementOptions:
    patients: int = dataset.PATIENTS
    events: int = dataset.EVENTS
    processes: int = 2
    clients: int = 8
    warmup: float = 5.0
    duration: float = 30.0
    rounds: int = 1
    seed_processes: int = 2


def run(options: EngagementOptions) -> Report:
    url = dataset.ensure_large(
        patients=options.patients, events=options.events, processes=options.seed_processes
    )
    prepare(url)
    report = Report("suggestions")
    full = [_full_evaluation(url, options.processes) for _ in range(options.rounds)]
    seconds = statistics.median(r["seconds"] for r in full)
    peak = statistics.median(r["peak_mb"] for r in full)
    last = full[-1]
    report.tables.append(
        Table(
            f"suggestions: full re-evaluation of every patient ({options.processes} processes)",
            ["figure", "value"],
            [
                ["patients", f"{last['patients']:,}"],
                ["events read", f"{last['events']:,}"],
                ["suggestions written", f"{last['suggestions']:,}"],
                ["wall time", f"{seconds:.1f} s"],
                ["CPU time, all processes", f"{statistics.median(r['cpu'] for r in full):.1f} s"],
                ["events per second", f"{last['events'] / seconds:,.0f}"],
                ["peak memory (process tree)", f"{peak:,.0f} MB"],
            ],
            notes=[f"median of {options.rounds} run(s); load average before: {last['load']:.1f}"],
        )
    )
    report.targets.append(
        Target(
            "full re-evaluation, 2M events",
            f"{seconds:.1f} s",
            f"< {TARGET_SECONDS:.0f} s",
            seconds < TARGET_SECONDS,
        )
    )
    lag = _catch_up_lag(url, options)
    report.tables.append(
        Table(
            f"suggestions: catch-up lag, append to suggestion, with {options.clients} clients "
            "appending",
            ["figure", "value"],
            [
                ["probes (one every 0.2-0.5 s, each timed on its own)", f"{lag['probes']}"],
                ["probes with no suggestion after 60 s", f"{lag['missing']}"],
                ["lag p50", f"{lag['p50'] * 1000:,.0f} ms"],
                ["lag p95", f"{lag['p95'] * 1000:,.0f} ms"],
                ["lag max", f"{lag['max'] * 1000:,.0f} ms"],
                ["commands appended by the clients", f"{lag['completed']:,}"],
                ["client throughput", f"{lag['rate']:,.0f} commands/s"],
            ],
            notes=[
                "the projection runs as one worker loop (run_once, 20 ms sleep when idle); the "
                "probe polls the queue every 5 ms for every call still waiting",
                f"load average before: {lag['load']:.1f}",
            ],
        )
    )
    return report


# --- 1. full re-evaluation -------------------------------------------------------------------


def _full_evaluation(url: str, processes: int) -> dict[str, Any]:
    load = os.getloadavg()[0]
    now = dt.datetime.now(dt.UTC).isoformat()
    command = [
        sys.executable,
        "manage.py",
        "evaluate_suggestions",
        "--all",
        "--processes",
        str(processes),
        "--now",
        now,
    ]
    started = time.monotonic()
    cpu_before = _children_cpu()
    child = subprocess.Popen(
        command, cwd=PROJECT_DIR, env=django_env(url), stdout=subprocess.PIPE, text=True
    )
    peak = 0
    watched = psutil.Process(child.pid)
    while child.poll() is None:
        peak = max(peak, _tree_rss(watched))
        time.sleep(0.1)
    seconds = time.monotonic() - started
    cpu = _children_cpu() - cpu_before
    output = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise RuntimeError(f"evaluate_suggestions failed ({child.returncode}): {output}")
    with psycopg.connect(conninfo(url)) as conn:
        suggestions = conn.execute("SELECT count(*) FROM engagement_suggestion").fetchone()
        patients = conn.execute("SELECT count(*) FROM engagement_patient_agenda").fetchone()
        events = conn.execute(
            "SELECT position FROM crm_projection_checkpoint WHERE name = 'suggestions'"
        ).fetchone()
        counted = conn.execute(
            "SELECT count(*) FROM crm_event WHERE position <= %s", [events[0] if events else 0]
        ).fetchone()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak / 2**20,
        "suggestions": suggestions[0] if suggestions else 0,
        "patients": patients[0] if patients else 0,
        "events": counted[0] if counted else 0,
        "load": load,
        "output": output.strip(),
    }


def _children_cpu() -> float:
    """CPU seconds used by every finished descendant (the command and its workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    with contextlib.suppress(psutil.Error):
        for member in [process, *process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += member.memory_info().rss
    return total


# --- 2. catch-up lag -------------------------------------------------------------------------


def _catch_up_lag(url: str, options: EngagementOptions) -> dict[str, Any]:
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT patient_id FROM crm_patient_profile WHERE NOT deceased AND merged_into IS "
            "NULL ORDER BY patient_id LIMIT %s",
            [LOAD_PATIENTS + PROBE_PATIENTS],
        ).fetchall()
    ids = [str(row[0]) for row in rows]
    probes, load_patients = ids[:PROBE_PATIENTS], ids[PROBE_PATIENTS:]
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    results: Any = ctx.Queue()
    follower = ctx.Process(target=_follow, args=(url, stop))
    probe = ctx.Process(
        target=_probe, args=(url, probes, options.warmup, options.duration, results)
    )
    follower.start()
    probe.start()
    try:
        load = run_load(
            "commands",
            url,
            clients=options.clients,
            warmup=options.warmup,
            duration=options.duration,
            patients=load_patients,
            overlap=0.1,
        )
        lags, missing = results.get(timeout=options.warmup + options.duration + 120)
    finally:
        stop.set()
        probe.join(timeout=30)
        follower.join(timeout=60)
        for process in (probe, follower):
            if process.is_alive():
                process.terminate()
    lags.sort()
    return {
        "probes": len(lags),
        "missing": missing,
        "p50": _quantile(lags, 0.50),
        "p95": _quantile(lags, 0.95),
        "max": lags[-1] if lags else float("nan"),
        "completed": load.completed,
        "rate": load.rate,
        "load": load.load_before,
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _follow(url: str, stop: Any) -> None:
    """The projection's worker loop, as `run_projections --follow` runs it, but tighter."""
    setup_django(url)
    from crm.projections import runner
    from engagement.projection import PROJECTION

    while not stop.is_set():
        if not runner.run_once(PROJECTION):
            time.sleep(0.02)


def _probe(url: str, patients: list[str], warmup: float, duration: float, results: Any) -> None:
    """Append a missed call every 0.2-0.5 s and time, for each one on its own, until its
    call-back suggestion is in the queue (a slow one does not hold the next ones back)."""
    setup_django(url)
    from django.utils import timezone

    from crm import handlers
    from crm.domain import events as ev

    actor = handlers.Actor(name="bench.probe", channel="api", role="agent")
    rng = random.Random(7)
    lags: list[float] = []
    waiting: dict[str, float] = {}  # suggestion id -> when its call was committed
    time.sleep(warmup)
    deadline = time.monotonic() + duration
    next_probe = time.monotonic()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        while time.monotonic() < deadline or (
            waiting and time.monotonic() < deadline + PROBE_TIMEOUT
        ):
            if time.monotonic() >= next_probe and time.monotonic() < deadline:
                call_id, patient_id = uuid.uuid4(), uuid.UUID(rng.choice(patients))
                handlers.call_log(
                    patient_id=patient_id,
                    direction=ev.CallDirection.INBOUND,
                    started_at=timezone.now(),
                    duration_seconds=0,
                    disposition=ev.CallDisposition.MISSED,
                    actor=actor,
                    call_id=call_id,
                )
                waiting[f"callback.{call_id}.{patient_id}"] = time.monotonic()
                next_probe = time.monotonic() + rng.uniform(0.2, 0.5)
            if waiting:
                found = conn.execute(
                    "SELECT suggestion_id FROM engagement_suggestion WHERE suggestion_id = ANY(%s)",
                    [list(waiting)],
                ).fetchall()
                seen = time.monotonic()
                for (suggestion_id,) in found:
                    lags.append(seen - waiting.pop(suggestion_id))
            time.sleep(0.005)
    # A call whose suggestion never came counts with the longest wait it was given.
    lags.extend(PROBE_TIMEOUT for _ in waiting)
    results.put((lags, len(waiting)))
