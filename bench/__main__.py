"""`python -m bench [name ...]`: run the named benchmarks (default: all) and print a table;
each flag also reads an environment variable, for `make bench` (docs/benchmarks.md)."""

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
from functools import partial
from typing import Any

from bench import api, commands, dataset, engagement, lag, machine, rebuild
from bench import reminders as reminders_bench
from bench.database import PROJECT_DIR, bench_url, database_name
from bench.report import Report, summary


def _fhir(args: argparse.Namespace) -> Report:
    from bench import fhir

    return fhir.run(
        fhir.FhirOptions(
            url=args.url,
            patients=args.fhir_patients,
            visits=args.fhir_visits,
            batch_size=args.fhir_batch_size,
            many_files=args.fhir_files,
            one_by_one=bool(args.fhir_one_by_one),
        )
    )


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
            open_rate=args.api_rate,
            open_duration=args.api_open_duration,
        )
    )


def _reminders(args: argparse.Namespace) -> Report:
    return reminders_bench.run(
        reminders_bench.RemindersOptions(
            url=args.url,
            reminders=args.reminders,
            workers=args.reminder_workers,
            batch_size=args.reminder_batch_size,
        )
    )


def _suggestions(args: argparse.Namespace) -> Report:
    return engagement.run(
        engagement.EngagementOptions(
            patients=args.large_patients,
            events=args.large_events,
            processes=args.suggestions_processes,
            rounds=args.rounds,
            seed_processes=args.seed_processes,
        )
    )


def _lag(args: argparse.Namespace) -> Report:
    return lag.run(
        lag.LagOptions(
            patients=args.large_patients,
            events=args.large_events,
            clients=args.lag_clients,
            warmup=args.lag_warmup,
            duration=args.lag_duration,
            baseline_interval=args.lag_baseline_interval,
            split=args.lag_split,
            follower_nice=args.lag_follower_nice,
            seed_processes=args.seed_processes,
        )
    )


def _desk_streams(args: argparse.Namespace) -> Report:
    from bench import streams_desk

    return streams_desk.run(streams_desk.options_from(args))


BENCHMARKS: dict[str, Callable[[argparse.Namespace], Report]] = {
    "commands": _commands,
    "rebuild": _rebuild,
    "api": _api,
    "reminders": _reminders,
    "fhir": _fhir,
    "suggestions": _suggestions,
    "lag": _lag,
    "desk-streams": _desk_streams,
}


def _clients(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give client counts such as 1,8")
    return counts


def _option(
    parser: argparse.ArgumentParser,
    flag: str,
    default: object,
    help: str,
    *,
    type: Callable[[str], object] = int,
    **kwargs: Any,
) -> None:
    """`--some-flag`, defaulting to BENCH_SOME_FLAG from the environment, else to `default`.

    The default is passed as a string, so argparse converts (and checks) the environment's
    value as it would the flag's: a bad BENCH_ value fails naming its flag.
    """
    env = "BENCH_" + flag.removeprefix("--").replace("-", "_").upper()
    shown = f"{default:,}" if isinstance(default, int) else default
    parser.add_argument(
        flag,
        type=type,
        default=os.environ.get(env, str(default)),
        help=f"{help} ({env}, default {shown})",
        **kwargs,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from bench.fhir import add_options as fhir_options
    from bench.streams_desk import add_options as desk_options

    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks on PostgreSQL (BENCH_DATABASE_URL); see docs/benchmarks.md.",
    )
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--url", default=bench_url(), help="database (BENCH_DATABASE_URL)")
    option = partial(_option, parser)
    option("--duration", 15, "commands: measured seconds per run", type=float)
    option("--warmup", 3, "commands: warm-up seconds before each window", type=float)
    option("--clients", "1,8", "commands: client process counts", type=_clients)
    option("--patients", 4000, "commands: patients per client count, split between clients")
    option("--overlap", 0.1, "commands: share of commands on any client's patients", type=float)
    option("--events", 1_000_000, "rebuild: events in the large log")
    option("--small-events", 250_000, "rebuild: events in the small log, to show memory is flat")
    option("--rounds", 1, "measure each figure this many times and report the median")
    option("--seed-processes", 2, "processes writing seed events")
    option(
        "--large-patients",
        dataset.PATIENTS,
        "the large dataset's patients (other sizes get their own database)",
    )
    option("--large-events", dataset.EVENTS, "the large dataset's events")
    option("--api-duration", 60, "api: measured seconds per view", type=float)
    option("--api-warmup", 5, "api: warm-up seconds before each window", type=float)
    option("--api-connections", 50, "api: concurrent wrk connections")
    option("--api-wrk-threads", 2, "api: wrk threads")
    option("--api-workers", 4, "api: gunicorn workers")
    option(
        "--api-worker-class",
        "sync",
        "api: gunicorn worker class",
        type=str,
        choices=["sync", "gthread"],
    )
    option("--api-worker-threads", 4, "api: threads per gthread worker")
    option("--api-sample", 2000, "api: phone numbers in wrk's rotation")
    option(
        "--api-throttle-rate",
        "1000000/minute",
        "api: API_THROTTLE_RATE for the server (the default is on but never hit)",
        type=str,
    )
    option(
        "--api-conn-max-age",
        60,
        "api: the server's DATABASE_CONN_MAX_AGE (0: a connection per request)",
    )
    option(
        "--api-rate",
        200,
        "api: the open-loop run's fixed rate of lookups per second (0: no open-loop run)",
        type=float,
    )
    option("--api-open-duration", 60, "api: the open-loop run's measured seconds", type=float)
    option("--suggestions-processes", 2, "suggestions: processes of the full re-evaluation")
    option("--reminders", 10_000, "reminders: reminders due at once")
    option("--reminder-workers", 2, "reminders: dispatcher processes")
    option("--reminder-batch-size", 100, "reminders: texts claimed per transaction")
    fhir_options(option)
    desk_options(option)
    lag.add_options(option)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    args.names = args.names or list(BENCHMARKS)
    return args


def _machine_now(before: str) -> machine.Speed:
    speed = machine.read(before, PROJECT_DIR)
    print(
        f"  machine: loop {speed.loop_ms:,.0f} ms, memory {speed.memory_ms:,.0f} ms, "
        f"flush {speed.flush_us:,.0f} us",
        flush=True,
    )
    return speed


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
    speeds: list[machine.Speed] = []
    for name in args.names:
        speeds.append(_machine_now(name))
        began = time.monotonic()
        reports.append(BENCHMARKS[name](args))
        print(f"  {name} took {time.monotonic() - began:,.0f} s", flush=True)
    speeds.append(_machine_now("end"))
    print()
    print(header)
    for result in reports:
        print()
        print(result.render())
    print()
    print(machine.table(speeds).render())
    print()
    print(summary(reports))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "started": started.isoformat(),
                    "reports": [asdict(r) for r in reports],
                    "machine": [asdict(s) for s in speeds],
                },
                out,
                indent=2,
            )
    missed = [t.name for r in reports for t in r.targets if not t.met]
    if missed:
        print(f"\nTargets missed: {', '.join(missed)}", file=sys.stderr)


if __name__ == "__main__":
    main()
