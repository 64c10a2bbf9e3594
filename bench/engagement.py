"""`suggestions`: the full re-evaluation of every patient (docs/benchmarks.md, Suggestions);
the catch-up lag from an append to its suggestion is `lag`'s (bench/lag.py)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import psutil
import psycopg

from bench import dataset
from bench.database import PROJECT_DIR, conninfo, django_env, prepare
from bench.report import Report, Table, Target

TARGET_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class EngagementOptions:
    patients: int = dataset.PATIENTS
    events: int = dataset.EVENTS
    processes: int = 2
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
            name="full re-evaluation, 2M events",
            measured=f"{seconds:.1f} s",
            goal=f"< {TARGET_SECONDS:.0f} s",
            met=seconds < TARGET_SECONDS,
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
