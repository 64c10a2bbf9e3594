"""`commands`: command throughput through the real handlers beside the eventsourcing library
doing the same per command, and raw INSERT commits, in one run (docs/benchmarks.md)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import floor, peer, report
from bench.database import prepare, tuning
from bench.load import LoadResult, ensure_raw_table, run_load
from bench.report import Report, Table, Target
from bench.seed import seed

TARGET_RATE = 1_000  # commands/s with 8 clients
TARGET_PEER_RATIO = 2.0  # ours / eventsourcing's, with 1 and with 8 clients
TARGET_CLIENTS = 8


@dataclass(frozen=True, slots=True)
class CommandsOptions:
    url: str
    clients: tuple[int, ...]
    warmup: float
    duration: float
    patients: int  # per client count, split evenly between the clients
    overlap: float
    rounds: int
    seed_processes: int


@dataclass(frozen=True, slots=True)
class Measured:
    raw: LoadResult
    floor: LoadResult
    ours: LoadResult
    peer: LoadResult


def run(options: CommandsOptions) -> Report:
    prepare(options.url)
    ensure_raw_table(options.url)
    peer.reset(options.url)
    patients: dict[int, list[str]] = {}
    peer_patients: dict[int, list[str]] = {}
    for clients in options.clients:
        ids = seed(
            options.url,
            processes=options.seed_processes,
            min_length=5,
            max_length=15,
            patients=options.patients,
            label=f"registering patients for {clients} client(s)",
        )
        patients[clients] = [str(i) for i in ids]
        print(f"  commands: eventsourcing's patients for {clients} client(s) ...", flush=True)
        peer_patients[clients] = peer.seed(
            options.url, patients=options.patients, min_length=5, max_length=15, rng_seed=clients
        )

    floor.prepare(options.url, [p for ids in patients.values() for p in ids])
    try:
        measured = _measure(options, patients, peer_patients)
    finally:
        floor.drop(options.url)
    return _report(options, measured)


_LABEL = {
    "raw_insert": "raw INSERT",
    "floor": "our statements alone",
    "commands": "our command mix",
    "peer": "eventsourcing's command mix",
}


def _measure(
    options: CommandsOptions, patients: dict[int, list[str]], peer_patients: dict[int, list[str]]
) -> dict[int, list[Measured]]:
    measured: dict[int, list[Measured]] = {c: [] for c in options.clients}
    for round_no in range(1, options.rounds + 1):
        for clients in options.clients:
            tag = f"round {round_no}/{options.rounds}, {clients} client(s)"
            # The baselines first; ours and eventsourcing's take turns going first.
            pair = ("commands", "peer") if round_no % 2 else ("peer", "commands")
            results: dict[str, LoadResult] = {}
            for kind in ("raw_insert", "floor", *pair):
                print(f"  commands: {tag}: {_LABEL[kind]} ...", flush=True)
                results[kind] = run_load(
                    kind,
                    options.url,
                    clients=clients,
                    warmup=options.warmup,
                    duration=options.duration,
                    patients=None
                    if kind == "raw_insert"
                    else (peer_patients if kind == "peer" else patients)[clients],
                    overlap=options.overlap if kind in pair else 0.0,
                )
            m = Measured(*(results[k] for k in ("raw_insert", "floor", "commands", "peer")))
            print(
                f"  commands: {tag}: raw {m.raw.rate:,.0f}/s, ours {m.ours.rate:,.0f}/s, "
                f"eventsourcing {m.peer.rate:,.0f}/s ({_ratio(m.ours, m.peer):.2f}x), "
                f"statements alone {m.floor.rate:,.0f}/s ({_ratio(m.floor, m.peer):.2f}x)",
                flush=True,
            )
            measured[clients].append(m)
    return measured


def _ratio(ours: LoadResult, theirs: LoadResult) -> float:
    return ours.rate / theirs.rate if theirs.rate else float("inf")


def _report(options: CommandsOptions, measured: dict[int, list[Measured]]) -> Report:
    table = Table(
        f"commands: {options.duration:g} s window after {options.warmup:g} s warm-up, "
        f"{options.patients:,} patients per client count (and as many aggregates for "
        f"eventsourcing), {options.overlap:.0%} overlap"
        + (f", median of {options.rounds} rounds" if options.rounds > 1 else ""),
        [
            "clients",
            "raw INSERT/s",
            "commands/s",
            "eventsourcing/s",
            "ours / es",
            "floor/s",
            "floor / es",
            "commands / raw",
            "cmd p50 ms",
            "cmd p99 ms",
            "es p50 ms",
            "es p99 ms",
            "conflicts",
            "load avg",
        ],
    )
    summary: dict[int, tuple[float, float]] = {}
    for clients, runs in measured.items():
        cmd_rate = statistics.median(m.ours.rate for m in runs)
        ratio = statistics.median(_ratio(m.ours, m.peer) for m in runs)
        summary[clients] = (cmd_rate, ratio)
        middle = runs[len(runs) // 2]
        table.rows.append(
            [
                str(clients),
                report.rate(statistics.median(m.raw.rate for m in runs)),
                report.rate(cmd_rate),
                report.rate(statistics.median(m.peer.rate for m in runs)),
                f"{ratio:.2f}x",
                report.rate(statistics.median(m.floor.rate for m in runs)),
                f"{statistics.median(_ratio(m.floor, m.peer) for m in runs):.2f}x",
                report.ratio(statistics.median(m.ours.rate / m.raw.rate for m in runs)),
                f"{middle.ours.p50_ms:.1f}",
                f"{middle.ours.p99_ms:.1f}",
                f"{middle.peer.p50_ms:.1f}",
                f"{middle.peer.p99_ms:.1f}",
                f"{sum(m.ours.refused for m in runs)} / {sum(m.peer.refused for m in runs)}",
                f"{middle.raw.load_before:.1f}",
            ]
        )
        mix = ", ".join(f"{k} {v:,}" for k, v in sorted(middle.ours.kinds.items()))
        table.notes.append(f"{clients} client(s) mix: {mix}")
    table.notes.append(
        "conflicts (ours / eventsourcing's): commands still refused after 3 tries "
        "(not counted as done)"
    )
    table.notes.append(
        "per command, ours: [BEGIN, lock the stream, read the events after the kept state], "
        "decide, [profile upsert, INSERT (taking the append lock, queueing the wake-up), "
        "COMMIT]: 2 round trips, 6 statements; "
        "eventsourcing: [SELECT the events after the cached aggregate's version], decide, "
        "save: [BEGIN], [SET lock_timeout, LOCK TABLE, NOTIFY, INSERT], [COMMIT] and 2 "
        "empty syncs: 6 round trips (docs/benchmarks.md)"
    )
    table.notes.append(
        "floor: our statements alone, the two round trips above through psycopg with "
        "their parameters made ahead (nothing read back, decided or folded), each client "
        "on its own patients, on scratch copies of the log and the profiles: what any "
        "Python client sending them could do (bench/floor.py)"
    )
    table.notes.append(tuning())
    result = Report("commands", [table])
    if TARGET_CLIENTS in summary:
        cmd_rate, _ = summary[TARGET_CLIENTS]
        result.targets.append(
            Target(
                name=f"commands/s, {TARGET_CLIENTS} clients",
                goal=f">= {TARGET_RATE:,}",
                measured=report.rate(cmd_rate),
                met=cmd_rate >= TARGET_RATE,
            )
        )
    for clients in sorted({TARGET_CLIENTS, 1} & summary.keys(), reverse=True):
        _, ratio = summary[clients]
        result.targets.append(
            Target(
                name=f"ours / eventsourcing, {clients} client{'s' if clients > 1 else ''}",
                goal=f">= {TARGET_PEER_RATIO:g}x",
                measured=f"{ratio:.2f}x",
                met=ratio >= TARGET_PEER_RATIO,
            )
        )
    return result
