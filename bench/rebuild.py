"""`rebuild`: replaying the whole log into profiles, against a raw scan of the same events
(docs/benchmarks.md, What each benchmark does)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass

import psycopg

from bench import report
from bench.database import (
    PROJECT_DIR,
    conninfo,
    database_name,
    django_env,
    drop_database,
    prepare,
    sibling_url,
)
from bench.report import Report, Table, Target
from bench.seed import counts, seed

TARGET_RATE = 30_000  # events/s
TARGET_PEAK_MB = 300
FLAT_TOLERANCE = 0.05  # peak RSS may grow this much from the small log to the large one


@dataclass(frozen=True, slots=True)
class RebuildOptions:
    url: str
    sizes: tuple[int, ...]
    rounds: int
    seed_processes: int


def size_url(base_url: str, events: int) -> str:
    return sibling_url(base_url, f"{database_name(base_url)}_events_{events}")


def ensure_seeded(url: str, events: int, processes: int) -> None:
    prepare(url)
    _, present = counts(url)
    if present > events:
        print(f"  {database_name(url)} holds {present:,} events; re-creating it", flush=True)
        drop_database(url)
        prepare(url)
        present = 0
    if present < events:
        seed(
            url,
            processes=processes,
            min_length=10,
            max_length=20,
            events=events - present,
            label=f"seeding {database_name(url)} by COPY",
            copy=True,  # the rows appends write, several times faster (bench.copyseed)
        )
    else:
        print(f"  {database_name(url)}: reusing {present:,} events", flush=True)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        # Settle dead rows left by earlier rebuilds so autovacuum does not wake mid-run.
        conn.execute("VACUUM (ANALYZE) crm_event, crm_patient_profile")


def probe(what: str, url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.probe", what, url],
        cwd=PROJECT_DIR,
        env=django_env(url),
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(options: RebuildOptions) -> Report:
    sizes = sorted(set(options.sizes))
    for events in sizes:
        ensure_seeded(size_url(options.url, events), events, options.seed_processes)
    runs: dict[int, list[tuple[dict[str, float], dict[str, float]]]] = {n: [] for n in sizes}
    for round_no in range(1, options.rounds + 1):
        for events in sizes:
            url = size_url(options.url, events)
            tag = f"round {round_no}/{options.rounds}, {events:,} events"
            print(f"  rebuild: {tag}: raw scan ...", flush=True)
            scanned = probe("scan", url)
            print(f"  rebuild: {tag}: rebuild() ...", flush=True)
            rebuilt = probe("rebuild", url)
            for name, result in (("scan", scanned), ("rebuild", rebuilt)):
                if result["events"] != events:
                    raise RuntimeError(f"{name} read {result['events']} events, not {events}")
            print(
                f"  rebuild: {tag}: scan {events / scanned['seconds']:,.0f}/s, rebuild "
                f"{events / rebuilt['seconds']:,.0f}/s, peak RSS {rebuilt['peak_mb']:.0f} MB",
                flush=True,
            )
            runs[events].append((scanned, rebuilt))
    return _report(options, runs)


def _report(
    options: RebuildOptions, runs: dict[int, list[tuple[dict[str, float], dict[str, float]]]]
) -> Report:
    table = Table(
        "rebuild: crm.projections.profile.rebuild() vs a raw server-side cursor scan"
        + (f", median of {options.rounds} rounds" if options.rounds > 1 else ""),
        [
            "events",
            "scan events/s",
            "rebuild events/s",
            "rebuild / scan",
            "rebuild s",
            "rebuild peak RSS MB",
            "of which before rebuild",
            "scan peak RSS MB",
        ],
    )
    peaks: dict[int, float] = {}
    rates: dict[int, float] = {}
    for events, pairs in runs.items():
        scan_rate = statistics.median(events / s["seconds"] for s, _ in pairs)
        rebuild_rate = statistics.median(events / r["seconds"] for _, r in pairs)
        share = statistics.median(s["seconds"] / r["seconds"] for s, r in pairs)
        peak = max(r["peak_mb"] for _, r in pairs)
        peaks[events], rates[events] = peak, rebuild_rate
        rebuilt = pairs[len(pairs) // 2][1]
        table.rows.append(
            [
                f"{events:,}",
                report.rate(scan_rate),
                report.rate(rebuild_rate),
                report.ratio(share),
                f"{events / rebuild_rate:.1f}",
                f"{peak:.0f}",
                f"{rebuilt['rss_before_mb']:.0f}",
                f"{max(s['peak_mb'] for s, _ in pairs):.0f}",
            ]
        )
    table.notes.append(
        "peak RSS: the high-water mark (VmHWM) of a fresh process doing only that work "
        "(Django set up included)"
    )
    largest, smallest = max(runs), min(runs)
    result = Report("rebuild", [table])
    result.targets.append(
        Target(
            name=f"rebuild events/s, {largest:,} events",
            goal=f">= {TARGET_RATE:,}",
            measured=report.rate(rates[largest]),
            met=rates[largest] >= TARGET_RATE,
        )
    )
    result.targets.append(
        Target(
            name=f"rebuild peak RSS, {largest:,} events",
            goal=f"< {TARGET_PEAK_MB} MB",
            measured=f"{peaks[largest]:.0f} MB",
            met=peaks[largest] < TARGET_PEAK_MB,
        )
    )
    if largest != smallest:
        growth = peaks[largest] / peaks[smallest] - 1
        result.targets.append(
            Target(
                name=f"{largest:,} events: memory flat (peak RSS vs {smallest:,} events)",
                goal=f"grows < {FLAT_TOLERANCE:.0%}",
                measured=f"{growth:+.1%} ({peaks[smallest]:.0f} -> {peaks[largest]:.0f} MB)",
                met=growth < FLAT_TOLERANCE,
            )
        )
    return result
