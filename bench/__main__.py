"""`python -m bench [name ...]`: run the named benchmarks (default: all) and print a table.

Every size and duration can be set by a flag or, for `make bench`, an environment variable
(BENCH_DURATION, BENCH_EVENTS, ...). A quick smoke run: `python -m bench commands --duration 3`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

from bench import commands, rebuild
from bench.database import bench_url, database_name
from bench.report import Report

BENCHMARKS: dict[str, Callable[[argparse.Namespace], Report]] = {}


def _commands(args: argparse.Namespace) -> Report:
    return commands.run(
        commands.CommandsOptions(
            url=args.url,
            clients=tuple(args.clients),
            warmup=args.warmup,
            duration=args.duration,
            patients=args.patients,
            overlap=args.overlap,
            rounds=args.rounds,
            seed_processes=args.seed_processes,
        )
    )


def _rebuild(args: argparse.Namespace) -> Report:
    small = args.small_events if args.small_events < args.events else max(args.events // 4, 1)
    return rebuild.run(
        rebuild.RebuildOptions(
            url=args.url,
            sizes=(small, args.events),
            rounds=args.rounds,
            seed_processes=args.seed_processes,
        )
    )


BENCHMARKS["commands"] = _commands
BENCHMARKS["rebuild"] = _rebuild


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _clients(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give client counts such as 1,8")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks on PostgreSQL (BENCH_DATABASE_URL); see docs/benchmarks.md.",
    )
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--url", default=bench_url(), help="database (BENCH_DATABASE_URL)")
    parser.add_argument(
        "--duration",
        type=float,
        default=_env_float("BENCH_DURATION", 15),
        help="commands: measured seconds per run (BENCH_DURATION, default 15)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=_env_float("BENCH_WARMUP", 3),
        help="commands: warm-up seconds before each window (BENCH_WARMUP, default 3)",
    )
    parser.add_argument(
        "--clients",
        type=_clients,
        default=_clients(os.environ.get("BENCH_CLIENTS", "1,8")),
        help="commands: client process counts (BENCH_CLIENTS, default 1,8)",
    )
    parser.add_argument(
        "--patients",
        type=int,
        default=_env_int("BENCH_PATIENTS", 4000),
        help="commands: patients per client count, split between clients (default 4000)",
    )
    parser.add_argument(
        "--overlap",
        type=float,
        default=_env_float("BENCH_OVERLAP", 0.1),
        help="commands: share of commands on any client's patients (default 0.1)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=_env_int("BENCH_EVENTS", 1_000_000),
        help="rebuild: events in the large log (BENCH_EVENTS, default 1,000,000)",
    )
    parser.add_argument(
        "--small-events",
        type=int,
        default=_env_int("BENCH_SMALL_EVENTS", 250_000),
        help="rebuild: events in the small log, to show memory is flat (default 250,000)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=_env_int("BENCH_ROUNDS", 1),
        help="measure each figure this many times and report the median (default 1)",
    )
    parser.add_argument(
        "--seed-processes",
        type=int,
        default=_env_int("BENCH_SEED_PROCESSES", 2),
        help="processes writing seed events (default 2)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    args.names = args.names or list(BENCHMARKS)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    header = (
        f"bench {' '.join(args.names)} on {database_name(args.url)} at "
        f"{started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs, {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(header, flush=True)
    reports: list[Report] = []
    for name in args.names:
        began = time.monotonic()
        reports.append(BENCHMARKS[name](args))
        print(f"  {name} took {time.monotonic() - began:,.0f} s", flush=True)
    print()
    print(header)
    for result in reports:
        print()
        print(result.render())
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {"started": started.isoformat(), "reports": [asdict(r) for r in reports]},
                out,
                indent=2,
            )
    missed = [t.name for r in reports for t in r.targets if not t.met]
    if missed:
        print(f"\nTargets missed: {', '.join(missed)}", file=sys.stderr)


if __name__ == "__main__":
    main()
