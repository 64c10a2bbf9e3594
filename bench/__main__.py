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

from bench import api, commands, dataset, engagement, rebuild
from bench import reminders as reminders_bench
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


def _api(args: argparse.Namespace) -> Report:
    return api.run(
        api.ApiOptions(
            duration=args.api_duration,
            warmup=args.api_warmup,
            connections=args.api_connections,
            wrk_threads=args.api_wrk_threads,
            workers=args.api_workers,
            worker_class=args.api_worker_class,
            worker_threads=args.api_worker_threads,
            sample=args.api_sample,
            rounds=args.rounds,
            patients=args.large_patients,
            events=args.large_events,
            seed_processes=args.seed_processes,
            throttle_rate=args.api_throttle_rate,
            conn_max_age=args.api_conn_max_age,
            paced_rate=args.api_paced_rate,
        )
    )


BENCHMARKS["commands"] = _commands
BENCHMARKS["rebuild"] = _rebuild
BENCHMARKS["api"] = _api


def _reminders(args: argparse.Namespace) -> Report:
    return reminders_bench.run(
        reminders_bench.RemindersOptions(
            url=args.url,
            reminders=args.reminders,
            workers=args.reminder_workers,
            batch_size=args.reminder_batch_size,
        )
    )


BENCHMARKS["reminders"] = _reminders


def _suggestions(args: argparse.Namespace) -> Report:
    return engagement.run(
        engagement.EngagementOptions(
            patients=args.large_patients,
            events=args.large_events,
            processes=args.suggestions_processes,
            clients=args.suggestions_clients,
            duration=args.suggestions_duration,
            rounds=args.rounds,
            seed_processes=args.seed_processes,
        )
    )


BENCHMARKS["suggestions"] = _suggestions


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
    parser.add_argument(
        "--large-patients",
        type=int,
        default=_env_int("BENCH_LARGE_PATIENTS", dataset.PATIENTS),
        help="the large dataset's patients (default 100,000; other sizes get their own database)",
    )
    parser.add_argument(
        "--large-events",
        type=int,
        default=_env_int("BENCH_LARGE_EVENTS", dataset.EVENTS),
        help="the large dataset's events (default 2,000,000)",
    )
    parser.add_argument(
        "--api-duration",
        type=float,
        default=_env_float("BENCH_API_DURATION", 60),
        help="api: measured seconds per view (BENCH_API_DURATION, default 60)",
    )
    parser.add_argument(
        "--api-warmup",
        type=float,
        default=_env_float("BENCH_API_WARMUP", 5),
        help="api: warm-up seconds before each window (default 5)",
    )
    parser.add_argument(
        "--api-connections",
        type=int,
        default=_env_int("BENCH_API_CONNECTIONS", 50),
        help="api: concurrent wrk connections (default 50)",
    )
    parser.add_argument(
        "--api-wrk-threads",
        type=int,
        default=_env_int("BENCH_API_WRK_THREADS", 2),
        help="api: wrk threads (default 2)",
    )
    parser.add_argument(
        "--api-workers",
        type=int,
        default=_env_int("BENCH_API_WORKERS", 4),
        help="api: gunicorn workers (default 4)",
    )
    parser.add_argument(
        "--api-worker-class",
        choices=["sync", "gthread"],
        default=os.environ.get("BENCH_API_WORKER_CLASS", "sync"),
        help="api: gunicorn worker class (default sync)",
    )
    parser.add_argument(
        "--api-worker-threads",
        type=int,
        default=_env_int("BENCH_API_WORKER_THREADS", 4),
        help="api: threads per gthread worker (default 4)",
    )
    parser.add_argument(
        "--api-sample",
        type=int,
        default=_env_int("BENCH_API_SAMPLE", 2000),
        help="api: phone numbers in wrk's rotation (default 2000)",
    )
    parser.add_argument(
        "--api-throttle-rate",
        default=os.environ.get("BENCH_API_THROTTLE_RATE", "1000000/minute"),
        help="api: API_THROTTLE_RATE for the server (default 1000000/minute: on, never hit)",
    )
    parser.add_argument(
        "--api-conn-max-age",
        type=int,
        default=_env_int("BENCH_API_CONN_MAX_AGE", 60),
        help="api: the server's DATABASE_CONN_MAX_AGE (default 60; 0: a connection per request)",
    )
    parser.add_argument(
        "--api-paced-rate",
        type=float,
        default=_env_float("BENCH_API_PACED_RATE", 0),
        help="api: also measure both views paced at about this many requests/s (default off)",
    )
    parser.add_argument(
        "--suggestions-processes",
        type=int,
        default=_env_int("BENCH_SUGGESTIONS_PROCESSES", 2),
        help="suggestions: processes of the full re-evaluation (default 2)",
    )
    parser.add_argument(
        "--suggestions-clients",
        type=int,
        default=_env_int("BENCH_SUGGESTIONS_CLIENTS", 8),
        help="suggestions: client processes appending while the lag is measured (default 8)",
    )
    parser.add_argument(
        "--suggestions-duration",
        type=float,
        default=_env_float("BENCH_SUGGESTIONS_DURATION", 30),
        help="suggestions: seconds the lag is measured for (default 30)",
    )
    parser.add_argument(
        "--reminders",
        type=int,
        default=_env_int("BENCH_REMINDERS", 10_000),
        help="reminders: reminders due at once (BENCH_REMINDERS, default 10,000)",
    )
    parser.add_argument(
        "--reminder-workers",
        type=int,
        default=_env_int("BENCH_REMINDER_WORKERS", 2),
        help="reminders: dispatcher processes (default 2)",
    )
    parser.add_argument(
        "--reminder-batch-size",
        type=int,
        default=_env_int("BENCH_REMINDER_BATCH_SIZE", 100),
        help="reminders: texts claimed per transaction (default 100)",
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
