"""`api`: the screen pop (`GET /api/v1/patients/lookup`) on the large dataset, open loop at a fixed
rate and flat out under wrk beside a bare indexed view (docs/benchmarks.md, API lookup)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg

from bench import dataset, openloop, report
from bench.database import PROJECT_DIR, conninfo, django_env, tuning
from bench.processes import free_port, stop
from bench.report import Report, Table, Target

TARGET_P99_MS = 50.0  # open loop, at ApiOptions.open_rate
TARGET_RATIO = 3.0  # flat out: the lookup's p99 over the bare view's, in the same run
GUNICORN_CONF = PROJECT_DIR / "deploy" / "gunicorn.conf.py"
LOOKUP_PATH = "/api/v1/patients/lookup?phone="
BARE_PATH = "/bench/bare/lookup?phone="
USERNAME = "bench.agent"
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "lookup.lua"
# What callers' numbers look like: one match most of the time, a household sometimes, and
# now and then someone the clinic does not know.
MIX = {"one match": 0.7, "household": 0.2, "unknown": 0.1}
FORMATS = (
    "({a}) {b}-{c}",
    "{a}.{b}.{c}",
    "+1 {a} {b} {c}",
    "{a}{b}{c}",
    "1-{a}-{b}-{c}",
    "+1{a}{b}{c}",
)
INSTALL_WRK = (
    "wrk is not installed; the api benchmark needs it as its load tool.\n"
    "Install it with: sudo apt-get install wrk   (Debian/Ubuntu; on macOS: brew install wrk)"
)


@dataclass(frozen=True, slots=True)
class ApiOptions:
    duration: float
    warmup: float
    connections: int
    wrk_threads: int
    workers: int
    worker_class: str  # "sync" or "gthread"
    worker_threads: int  # gthread only
    sample: int  # phone numbers in the rotation
    rounds: int
    patients: int
    events: int
    seed_processes: int
    throttle_rate: str
    conn_max_age: int  # DATABASE_CONN_MAX_AGE for the server
    open_rate: float = 0.0  # the open-loop run's requests/s (0: no open-loop run)
    open_duration: float = 0.0  # its measured seconds, after `warmup` s at the same rate


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run(options: ApiOptions) -> Report:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit(INSTALL_WRK)
    url = dataset.ensure_large(
        patients=options.patients, events=options.events, processes=options.seed_processes
    )
    print(f"  api: {dataset.describe(url)}", flush=True)
    ensure_suggestions(url)
    settle(url)
    token = agent_token(url)
    callers, mix = phone_sample(url, options.sample)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        phones_file = Path(tmp) / "phones.txt"
        phones_file.write_text("".join(f"{quote(p, safe='')}\n" for p, _ in callers))
        targets_file = Path(tmp) / "targets.txt"
        targets_file.write_text(
            "".join(f"{status} {LOOKUP_PATH}{quote(p, safe='')}\n" for p, status in callers)
        )
        measured: dict[str, list[WrkResult]] = {}
        outcomes: Counter[str] = Counter()
        open_loop: openloop.OpenLoopResult | None = None
        with Gunicorn(url, options, log=Path(tmp) / "gunicorn.log") as server:
            for round_no in range(1, options.rounds + 1):
                for name, path in (("bare", BARE_PATH), ("lookup", LOOKUP_PATH)):
                    tag = f"round {round_no}/{options.rounds}, flat out, {name}"
                    run_wrk = _WrkRun(wrk, server.base, phones_file, path, token, options)
                    if options.warmup > 0:
                        run_wrk(options.warmup)
                    print(f"  api: {tag}: {options.duration:g} s ...", flush=True)
                    began = dt.datetime.now(dt.UTC)
                    result = run_wrk(options.duration)
                    ended = dt.datetime.now(dt.UTC)
                    if name == "lookup":
                        outcomes += audited_outcomes(url, began, ended)
                    print(
                        f"  api: {tag}: {result.rate:,.0f} req/s, p50 {result.p50_ms:.1f} "
                        f"ms, p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx:,}",
                        flush=True,
                    )
                    measured.setdefault(name, []).append(result)
            # Last: a server that cannot keep up is left with a backlog that a following
            # window would queue behind.
            if options.open_rate > 0:
                print(
                    f"  api: open loop, lookup at {options.open_rate:g}/s: "
                    f"{options.warmup:g} + {options.open_duration:g} s ...",
                    flush=True,
                )
                open_loop = run_open_loop(server.base, targets_file, token, options)
                print(
                    f"  api: open loop: p50 {open_loop.p50_ms:.1f} ms, p99 "
                    f"{open_loop.p99_ms:.1f} ms, max {open_loop.max_ms:.1f} ms, errors "
                    f"{open_loop.errors:,}, late sends {open_loop.late_sends:,}",
                    flush=True,
                )
    return _report(options, url, measured, outcomes, mix, open_loop)


def run_open_loop(
    base: str, targets_file: Path, token: str, options: ApiOptions
) -> openloop.OpenLoopResult:
    """bench/openloop.py in a process of its own, so its CPU is not the benchmark's."""
    command = [
        sys.executable,
        "-m",
        "bench.openloop",
        base,
        str(targets_file),
        "--rate",
        f"{options.open_rate:g}",
        "--duration",
        f"{options.open_duration:g}",
        "--warmup",
        f"{options.warmup:g}",
        "--timeout",
        "10",
        "--header",
        f"Authorization: Token {token}",
    ]
    done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the open-loop generator failed:\n{done.stdout}\n{done.stderr}")
    return openloop.parse_result(done.stdout)


def ensure_suggestions(url: str) -> None:
    """The screen pop carries each caller's open suggestions: evaluate them once, so the
    lookup reads a queue as a clinic's would be (about 195,000 rows), not an empty table."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM engagement_suggestion)").fetchone()
    if row is not None and row[0]:
        return
    print("  api: evaluating every patient's suggestions (about a minute) ...", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "evaluate_suggestions", "--all", "--processes", "2"],
        cwd=PROJECT_DIR,
        env=django_env(url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def settle(url: str) -> None:
    """Vacuum what the lookup reads, as autovacuum would have, and flush the written pages,
    before any window: an earlier `make bench` (the suggestions' re-evaluation, the lag's
    clients) leaves some 240,000 dead suggestions behind, and PostgreSQL on these machines
    runs with autovacuum off (docs/benchmarks-notebook.md, 2026-12-07)."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) engagement_suggestion, crm_event, crm_patient_profile")
        with contextlib.suppress(psycopg.errors.InsufficientPrivilege):  # no pg_checkpoint
            conn.execute("CHECKPOINT")


def agent_token(url: str, username: str = USERNAME) -> str:
    """A user in the agent group and a fresh API token for it (create_api_token --rotate)."""
    env = django_env(url)
    code = (
        "from django.contrib.auth.models import Group, User\n"
        f"user, _ = User.objects.get_or_create(username={username!r})\n"
        "user.groups.set([Group.objects.get_or_create(name='agent')[0]])\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_token", username, "--rotate"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def phone_sample(url: str, size: int) -> tuple[list[tuple[str, int]], dict[str, int]]:
    """`size` numbers in MIX's proportions, each written in one of FORMATS, shuffled, with the
    status the lookup answers (404 for a number nobody has)."""
    rng = random.Random(size)
    grouped = dataset.phones_by_matches(url)
    pools = {
        "one match": grouped.get(1, []),
        "household": [p for matches, numbers in grouped.items() if matches > 1 for p in numbers],
        "unknown": dataset.unused_phones(),
    }
    chosen: list[tuple[str, int]] = []
    mix: dict[str, int] = {}
    for kind, share in MIX.items():
        pool = pools[kind]
        count = min(round(size * share), len(pool))
        mix[kind] = count
        status = 404 if kind == "unknown" else 200
        chosen.extend((e164, status) for e164 in rng.sample(pool, count))
    rng.shuffle(chosen)
    return [(_written(rng, e164), status) for e164, status in chosen], mix


def _written(rng: random.Random, e164: str) -> str:
    national = e164.removeprefix("+1")
    return rng.choice(FORMATS).format(a=national[:3], b=national[3:6], c=national[6:])


def audited_outcomes(url: str, began: dt.datetime, ended: dt.datetime) -> Counter[str]:
    """Lookups the benchmark user made in a window, by status and outcome, from the audit.

    A household lookup writes one row per candidate, all with the same `at`: count those once.
    """
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT status_code, outcome, count(DISTINCT at) FROM crm_access_log "
            "WHERE username = %s AND at >= %s AND at <= %s GROUP BY status_code, outcome",
            [USERNAME, began, ended],
        ).fetchall()
    return Counter({f"{status} {outcome}": int(count) for status, outcome, count in rows})


class Gunicorn:
    """gunicorn serving bench.settings on a free port of 127.0.0.1, for a `with` block, set up
    as production is: deploy/gunicorn.conf.py, read from the environment (deploy/README.md)."""

    def __init__(self, url: str, options: ApiOptions, *, log: Path) -> None:
        self.url = url
        self.options = options
        self.log = log  # the access log and Django's "Not Found" warnings go here
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)]

    def __enter__(self) -> Gunicorn:
        env = django_env(self.url)
        env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
        env["ALLOWED_HOSTS"] = "127.0.0.1"
        env["API_THROTTLE_RATE"] = self.options.throttle_rate
        env["DATABASE_CONN_MAX_AGE"] = str(self.options.conn_max_age)
        env["GUNICORN_BIND"] = f"127.0.0.1:{self.port}"
        env["WEB_CONCURRENCY"] = str(self.options.workers)
        threaded = self.options.worker_class == "gthread"
        env["GUNICORN_THREADS"] = str(self.options.worker_threads if threaded else 1)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode} at start:\n"
                    + self.log.read_text()[-3000:]
                )
            try:
                with urllib.request.urlopen(f"{self.base}{BARE_PATH}0", timeout=2):
                    pass
                break
            except urllib.error.HTTPError:
                break  # it answered (404: nobody has that number)
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError("gunicorn did not answer within 60 s") from None
                time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            stop(self.process, timeout=30)


@dataclass(frozen=True, slots=True)
class _WrkRun:
    wrk: str
    base: str
    phones_file: Path
    path: str
    token: str
    options: ApiOptions

    def __call__(self, seconds: float) -> WrkResult:
        command = [
            self.wrk,
            f"-t{self.options.wrk_threads}",
            f"-c{self.options.connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(WRK_SCRIPT),
            self.base,
            "--",
            str(self.phones_file),
            self.path,
            self.token,
        ]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith("WRK_JSON ")]
        if not lines:
            raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
        raw = json.loads(lines[-1].removeprefix("WRK_JSON "))
        if raw["requests"] == 0:
            raise RuntimeError(f"wrk completed no request:\n{done.stdout}")
        return WrkResult(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1000,
            p90_ms=raw["p90_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            max_ms=raw["max_us"] / 1000,
            non_2xx=raw["non_2xx_3xx"],
            socket_errors=raw["connect_errors"]
            + raw["read_errors"]
            + raw["write_errors"]
            + raw["timeouts"],
        )


def _median(results: list[WrkResult], attribute: str) -> float:
    return statistics.median(float(getattr(r, attribute)) for r in results)


def _report(
    options: ApiOptions,
    url: str,
    measured: dict[str, list[WrkResult]],
    outcomes: Counter[str],
    mix: dict[str, int],
    open_loop: openloop.OpenLoopResult | None,
) -> Report:
    worker = options.worker_class + (
        f" x {options.worker_threads} threads" if options.worker_class == "gthread" else ""
    )
    server = (
        f"gunicorn -c deploy/gunicorn.conf.py, {options.workers} {worker} workers, DEBUG=0, "
        f"DATABASE_CONN_MAX_AGE={options.conn_max_age}, {tuning()}, API_THROTTLE_RATE="
        f"{options.throttle_rate} (the throttle runs, in the local-memory cache, but never "
        "refuses)"
    )
    rotation = (
        "numbers asked: "
        + ", ".join(f"{count:,} {kind}" for kind, count in mix.items())
        + f", written in {len(FORMATS)} formats; the unknown callers' answer is a 404"
    )
    result = Report("api")
    if open_loop is not None:
        result.tables.append(_open_loop_table(options, open_loop, rotation, server))
        result.targets.append(
            Target(
                name=f"lookup p99, open loop at {options.open_rate:g}/s",
                goal=f"< {TARGET_P99_MS:g} ms",
                measured=f"{open_loop.p99_ms:.1f} ms",
                met=open_loop.p99_ms < TARGET_P99_MS,
            )
        )
        result.targets.append(
            Target(
                name=f"lookup errors, open loop at {options.open_rate:g}/s",
                goal="none (unexpected status, timeout, connection)",
                measured=f"{open_loop.errors:,} of {open_loop.scheduled:,}",
                met=open_loop.errors == 0 and open_loop.completed == open_loop.scheduled,
            )
        )
    table = Table(
        f"api, flat out: GET /api/v1/patients/lookup vs a bare indexed lookup, wrk "
        f"{options.connections} connections x {options.duration:g} s"
        + (f", median of {options.rounds} rounds" if options.rounds > 1 else ""),
        ["view", "requests/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx", "socket errors"],
    )
    p99s: dict[str, float] = {}
    for name, results in measured.items():
        p99s[name] = _median(results, "p99_ms")
        table.rows.append(
            [
                "lookup (DRF, audit)" if name == "lookup" else "bare view",
                report.rate(_median(results, "rate")),
                f"{_median(results, 'p50_ms'):.1f}",
                f"{_median(results, 'p90_ms'):.1f}",
                f"{p99s[name]:.1f}",
                f"{max(r.max_ms for r in results):.1f}",
                f"{sum(r.non_2xx for r in results):,}",
                f"{sum(r.socket_errors for r in results):,}",
            ]
        )
    table.notes.append(dataset.describe(url))
    table.notes.append(rotation)
    total = sum(outcomes.values())
    table.notes.append(
        "flat-out lookups by the access audit (status outcome): "
        + ", ".join(f"{key} {count / total:.1%}" for key, count in sorted(outcomes.items()))
        if total
        else "no access-audit rows were written in the lookup windows"
    )
    table.notes.append(
        f"{server}; wrk -t{options.wrk_threads} (closed loop: each connection waits for its "
        f"answer); load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    result.tables.append(table)
    if measured:
        p99, bare_p99 = p99s["lookup"], p99s["bare"]
        result.targets.append(
            Target(
                name="lookup p99 / bare view p99, flat out",
                goal=f"<= {TARGET_RATIO:g}x",
                measured=f"{p99 / bare_p99:.2f}x ({p99:.1f} / {bare_p99:.1f} ms)",
                met=p99 / bare_p99 <= TARGET_RATIO,
            )
        )
    unexpected = {k: v for k, v in outcomes.items() if not k.startswith(("200 ", "404 "))}
    result.targets.append(
        Target(
            name="flat-out lookups answered only 200/404",
            goal="no 401, 429 or 5xx",
            measured=", ".join(f"{k}: {v}" for k, v in unexpected.items()) or "none",
            met=not unexpected and total > 0,
        )
    )
    return result


def _open_loop_table(
    options: ApiOptions, result: openloop.OpenLoopResult, rotation: str, server: str
) -> Table:
    table = Table(
        f"api, open loop: GET /api/v1/patients/lookup at {options.open_rate:g} requests/s "
        f"for {options.open_duration:g} s (after {options.warmup:g} s at the same rate)",
        [
            "sent",
            "answered",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "wrong status",
            "timeouts",
            "connection errors",
        ],
        [
            [
                f"{result.scheduled:,}",
                f"{result.completed:,}",
                f"{result.p50_ms:.1f}",
                f"{result.p95_ms:.1f}",
                f"{result.p99_ms:.1f}",
                f"{result.p999_ms:.1f}",
                f"{result.max_ms:.1f}",
                f"{result.unexpected_status:,}",
                f"{result.timeouts:,}",
                f"{result.connection_errors:,}",
            ]
        ],
    )
    table.notes.append(
        "bench/openloop.py (aiohttp, HdrHistogram): each request leaves at its scheduled time "
        "on its own connection whatever the server is doing, and its latency counts from that "
        "time, so a stall counts against every caller who rang during it (no coordinated "
        "omission, as wrk2)"
    )
    table.notes.append(
        f"the generator's own lag: {result.late_sends:,} of {result.scheduled:,} sends left "
        f"over {openloop.LATE_MS:g} ms late (worst {result.max_send_lag_ms:.1f} ms), counted "
        "in their latency; answers by status: "
        + ", ".join(f"{status} {count:,}" for status, count in result.statuses.items())
    )
    table.notes.append(rotation)
    table.notes.append(server)
    return table
