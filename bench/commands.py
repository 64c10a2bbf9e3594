"""`commands`: command throughput through the real handlers, as a share of raw INSERT commits
measured a moment before in the same run (docs/benchmarks.md, What each benchmark does)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench import report
from bench.database import prepare, tuning
from bench.load import LoadResult, ensure_raw_table, run_load
from bench.report import Report, Table, Target
from bench.seed import seed

TARGET_RATE = 1_000  # commands/s with 8 clients
TARGET_SHARE = 0.35  # of the raw INSERT rate at the same client count
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


def run(options: CommandsOptions) -> Report:
    prepare(options.url)
    ensure_raw_table(options.url)
    patients: dict[int, list[str]] = {}
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

    measured: dict[int, list[tuple[LoadResult, LoadResult]]] = {c: [] for c in options.clients}
    for round_no in range(1, options.rounds + 1):
        for clients in options.clients:
            tag = f"round {round_no}/{options.rounds}, {clients} client(s)"
            print(f"  commands: {tag}: raw INSERT ...", flush=True)
            raw = run_load(
                "raw_insert",
                options.url,
                clients=clients,
                warmup=options.warmup,
                duration=options.duration,
            )
            print(f"  commands: {tag}: command mix ...", flush=True)
            commands = run_load(
                "commands",
                options.url,
                clients=clients,
                warmup=options.warmup,
                duration=options.duration,
                patients=patients[clients],
                overlap=options.overlap,
            )
            print(
                f"  commands: {tag}: raw {raw.rate:,.0f}/s, commands {commands.rate:,.0f}/s "
                f"({commands.rate / raw.rate:.1%})",
                flush=True,
            )
            measured[clients].append((raw, commands))
    return _report(options, measured)


def _report(
    options: CommandsOptions, measured: dict[int, list[tuple[LoadResult, LoadResult]]]
) -> Report:
    table = Table(
        f"commands: {options.duration:g} s window after {options.warmup:g} s warm-up, "
        f"{options.patients:,} patients per client count, {options.overlap:.0%} overlap"
        + (f", median of {options.rounds} rounds" if options.rounds > 1 else ""),
        [
            "clients",
            "raw INSERT/s",
            "commands/s",
            "commands / raw",
            "cmd p50 ms",
            "cmd p99 ms",
            "raw p50 ms",
            "conflicts",
            "load avg",
        ],
    )
    summary: dict[int, tuple[float, float]] = {}
    for clients, pairs in measured.items():
        raw_rate = statistics.median(raw.rate for raw, _ in pairs)
        cmd_rate = statistics.median(cmd.rate for _, cmd in pairs)
        share = statistics.median(cmd.rate / raw.rate for raw, cmd in pairs)
        summary[clients] = (cmd_rate, share)
        raw, cmd = pairs[len(pairs) // 2]
        table.rows.append(
            [
                str(clients),
                report.rate(raw_rate),
                report.rate(cmd_rate),
                report.ratio(share),
                f"{cmd.p50_ms:.1f}",
                f"{cmd.p99_ms:.1f}",
                f"{raw.p50_ms:.2f}",
                str(sum(c.refused for _, c in pairs)),
                f"{raw.load_before:.1f}",
            ]
        )
        mix = ", ".join(f"{k} {v:,}" for k, v in sorted(cmd.kinds.items()))
        table.notes.append(f"{clients} client(s) mix: {mix}")
    table.notes.append(
        "conflicts: commands still refused after the handler's retries (not counted as done)"
    )
    table.notes.append(tuning())
    result = Report("commands", [table])
    if TARGET_CLIENTS in summary:
        cmd_rate, share = summary[TARGET_CLIENTS]
        result.targets.append(
            Target(
                name=f"commands/s, {TARGET_CLIENTS} clients",
                goal=f">= {TARGET_RATE:,}",
                measured=report.rate(cmd_rate),
                met=cmd_rate >= TARGET_RATE,
            )
        )
        result.targets.append(
            Target(
                name=f"share of raw INSERT rate, {TARGET_CLIENTS} clients",
                goal=f">= {TARGET_SHARE:.0%}",
                measured=report.ratio(share),
                met=share >= TARGET_SHARE,
            )
        )
    return result
