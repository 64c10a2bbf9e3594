"""`lag`: from an append's commit to its suggestion readable through the API, idle and while
clients append, woken follower against a polling one (docs/benchmarks.md, Lag)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench import dataset
from bench.api import ApiOptions, Gunicorn, agent_token
from bench.database import PROJECT_DIR, conninfo, django_env, prepare
from bench.load import run_load
from bench.processes import stop
from bench.report import Report, Table, Target

TARGET_IDLE_P95 = 2.0
TARGET_LOAD_P95 = 5.0
PROBE_PATIENTS = 50
LOAD_PATIENTS = 4000
# How long a probe waits for its suggestion after the last call is appended.
PROBE_TIMEOUT = 60.0
# The followers' scheduling group's nice value: a service weighted about 3 times the
# clients' group (systemd's CPUWeight=300 against 100; deploy/README.md).
FOLLOWER_NICE = -5
# How the woken follower runs: one loop, a thread per projection, a process per projection.
SPLIT_FLAGS = {"none": "", "threads": "--parallel", "processes": "--processes"}


@dataclass(frozen=True, slots=True)
class LagOptions:
    patients: int = dataset.PATIENTS
    events: int = dataset.EVENTS
    clients: int = 8
    warmup: float = 5.0
    duration: float = 30.0
    baseline_interval: float = 0.5
    split: str = "none"  # "none", "threads" or "processes": how the woken follower runs
    # The followers' nice value, and in a session of their own their scheduling group's:
    # negative weighs the follower's service above the clients' (FOLLOWER_NICE).
    follower_nice: int = FOLLOWER_NICE
    seed_processes: int = 2


@dataclass(frozen=True, slots=True)
class Follower:
    label: str
    args: tuple[str, ...]
    # A session of its own puts the follower in a scheduling group of its own (the kernel's
    # autogroup), as a service of its own gets (systemd gives each a cgroup of equal weight)
    # and as a job host of its own would; shared, it is one process among the clients'.
    own_session: bool = True
    nice: int | None = None  # None: the run's --lag-follower-nice


def add_options(option: Callable[..., None]) -> None:
    """The benchmark's flags (each with its BENCH_ variable), for bench/__main__.py."""
    option("--lag-clients", 8, "lag: client processes appending in the loaded windows")
    option("--lag-duration", 30, "lag: seconds of probes per window", type=float)
    option("--lag-warmup", 5, "lag: seconds before the probes start", type=float)
    option(
        "--lag-baseline-interval",
        0.5,
        "lag: the baseline follower's poll, without wake-up (seconds)",
        type=float,
    )
    option(
        "--lag-split",
        "none",
        "lag: the woken follower as one loop, a thread or a process per projection",
        type=str,
        choices=list(SPLIT_FLAGS),
    )
    option(
        "--lag-follower-nice",
        FOLLOWER_NICE,
        "lag: nice value of the followers' scheduling group (a service's CPU weight: -5 "
        "weighs about 3 times the clients' group)",
    )


def run(options: LagOptions) -> Report:
    url = dataset.ensure_large(
        patients=options.patients, events=options.events, processes=options.seed_processes
    )
    prepare(url)
    caught_up = _catch_up_everything(url)
    token = agent_token(url, USERNAME)
    probes, load_patients = _patients(url)
    flag = SPLIT_FLAGS[options.split]
    woken = Follower(
        "woken by NOTIFY" + (f", {flag}" if flag else ""),
        ("--interval", "5", *((flag,) if flag else ())),
    )
    polling = Follower(
        f"polling every {options.baseline_interval:g} s (no wake-up)",
        ("--no-wakeup", "--interval", f"{options.baseline_interval:g}"),
    )
    # References under load: the woken follower with the clients' weight, in a group of
    # its own and then as one more process among them.
    equal = dataclasses.replace(woken, label=f"{woken.label}, nice 0", nice=0)
    shared = dataclasses.replace(
        woken, label=f"{woken.label}, nice 0, in the clients' session", own_session=False, nice=0
    )
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-lag-") as tmp,
        Gunicorn(url, _server_options(), log=Path(tmp) / "gunicorn.log") as server,
    ):
        for clients in (0, options.clients):
            for follower in (polling, woken, *((equal, shared) if clients else ())):
                print(f"  lag: {follower.label}, {clients} clients ...", flush=True)
                results[follower.label, clients] = _window(
                    url,
                    server.base,
                    token,
                    follower,
                    clients=clients,
                    probes=probes,
                    load_patients=load_patients,
                    options=options,
                    log=Path(tmp) / "follower.log",
                )
    return _report(options, results, polling, woken, shared, caught_up)


def _server_options() -> ApiOptions:
    """gunicorn as the api benchmark starts it; the throttle refuses nothing (one token)."""
    return ApiOptions(
        duration=0,
        warmup=0,
        connections=0,
        wrk_threads=0,
        workers=2,
        worker_class="sync",
        worker_threads=1,
        sample=0,
        rounds=1,
        patients=0,
        events=0,
        seed_processes=0,
        throttle_rate="1000000/minute",
        conn_max_age=60,
    )


def _catch_up_everything(url: str) -> float:
    """Every catch-up projection at the end of the log before any window. The suggestions
    are evaluated in bulk (the large dataset holds only profiles); the other projections'
    checkpoints are moved to the log's end without replaying what came before (the seeded
    history would take hours here, and is no part of the lag: each window measures the
    follower's work on the events appended during it). Their read models stay partial."""
    started = time.monotonic()
    env = django_env(url)
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT position FROM crm_projection_checkpoint WHERE name = 'suggestions'"
        ).fetchone()
    if row is None or not row[0]:
        print("  lag: evaluating every patient's suggestions ...", flush=True)
        subprocess.run(
            [sys.executable, "manage.py", "evaluate_suggestions", "--all", "--processes", "2"],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    names = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", _NAMES],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for name in names:
            conn.execute(
                "INSERT INTO crm_projection_checkpoint (name, position, updated_at) "
                "SELECT %s, coalesce(max(position), 0), now() FROM crm_event "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                [name],
            )
    print("  lag: catching every projection up ...", flush=True)
    subprocess.run(
        [sys.executable, "manage.py", "run_projections"],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


_NAMES = (
    "from crm.projections import runner; "
    "print(' '.join(n for n in runner.registered() if n != 'suggestions'))"
)


# The probe's own agent: another benchmark on the same dataset rotating bench/api.py's
# token (create_api_token --rotate) must not turn the probe's GETs into 401s mid-window.
USERNAME = "bench.lag"


def _patients(url: str) -> tuple[list[str], list[str]]:
    """The probes' patients and the load's, drawn at random for each run: the same ones
    run after run grew from the dataset's 22 events a patient to 78 in one afternoon, and a
    patient the follower meets cold costs in proportion to its stream."""
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT patient_id FROM crm_patient_profile WHERE NOT deceased AND merged_into IS "
            "NULL ORDER BY random() LIMIT %s",
            [LOAD_PATIENTS + PROBE_PATIENTS],
        ).fetchall()
    ids = [str(row[0]) for row in rows]
    return ids[:PROBE_PATIENTS], ids[PROBE_PATIENTS:]


def _window(
    url: str,
    base: str,
    token: str,
    follower: Follower,
    *,
    clients: int,
    probes: list[str],
    load_patients: list[str],
    options: LagOptions,
    log: Path,
) -> dict[str, Any]:
    """One follower process, one probe process, and `clients` appending flat out."""
    nice = options.follower_nice if follower.nice is None else follower.nice
    process = _start_follower(url, follower, log, nice=nice)
    ctx = mp.get_context("spawn")
    results: Any = ctx.Queue()
    probe = ctx.Process(
        target=_probe,
        args=(url, base, token, probes, options.warmup, options.duration, results),
    )
    load_before = os.getloadavg()[0]
    probe.start()
    before = _follower_state(url, process)
    try:
        load = None
        if clients:
            load = run_load(
                "commands",
                url,
                clients=clients,
                warmup=options.warmup,
                duration=options.duration,
                patients=load_patients,
                overlap=0.1,
            )
        during = _follower_state(url, process)  # the load has ended (idle: nothing changes)
        lags, missing = results.get(timeout=options.warmup + options.duration + PROBE_TIMEOUT + 60)
        if not clients:
            during = _follower_state(url, process)
    finally:
        probe.join(timeout=30)
        if probe.is_alive():
            probe.terminate()
        stop(process, timeout=60)
    # Probes come back in commit order: the later half shows the follower once it has met
    # the load's patients (their folded states kept), the first half includes meeting them.
    later = sorted(lags[len(lags) // 2 :])
    lags.sort()
    wall = during["at"] - before["at"]
    return {
        "cpu_share": (during["cpu"] - before["cpu"]) / wall,
        "appended": (during["last"] - before["last"]) / wall,
        "projected": (during["suggestions"] - before["suggestions"]) / wall,
        "later_p95": _quantile(later, 0.95),
        "probes": len(lags),
        "missing": missing,
        "p50": _quantile(lags, 0.50),
        "p95": _quantile(lags, 0.95),
        "max": lags[-1] if lags else float("nan"),
        "rate": load.rate if load else 0.0,
        "load": load_before,
    }


def _follower_state(url: str, process: subprocess.Popen[bytes]) -> dict[str, float]:
    """CPU seconds used so far by the follower and its children, the log's last position and
    the suggestions' checkpoint: their differences say whether it kept up, and on how much."""
    cpu = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(process.pid)
        for member in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = member.cpu_times()
                cpu += times.user + times.system
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT (SELECT coalesce(max(position), 0) FROM crm_event), (SELECT position FROM "
            "crm_projection_checkpoint WHERE name = 'suggestions')"
        ).fetchone()
    last, suggestions = row if row else (0, 0)
    return {"at": time.monotonic(), "cpu": cpu, "last": last, "suggestions": suggestions or 0}


def _start_follower(
    url: str, follower: Follower, log: Path, *, nice: int = 0
) -> subprocess.Popen[bytes]:
    """`manage.py run_projections --follow ...`, once it has caught up and is watching."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_projections", "--follow", *follower.args],
            cwd=PROJECT_DIR,
            env=django_env(url),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: _set_nice(nice, follower.own_session)) if nice else None,
            start_new_session=follower.own_session,
        )
    deadline = time.monotonic() + 300
    while b"Caught up" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process, timeout=60)
            raise RuntimeError(f"the follower did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return process


def _probe(
    url: str,
    base: str,
    token: str,
    patients: list[str],
    warmup: float,
    duration: float,
    results: Any,
) -> None:
    """Log a missed call every 0.2-0.5 s through the handler and time, for each on its own,
    from the handler's return (its commit) until GET /api/v1/patients/<id>/suggestions/
    lists the call-back. Calls are projected in commit order, so the oldest waiting one is
    asked about first and the younger ones only once it is there."""
    from bench.database import setup_django

    setup_django(url)
    from django.utils import timezone

    from crm import handlers
    from crm.domain import events as ev

    actor = handlers.Actor(name="bench.probe", channel="api", role="agent")
    rng = random.Random(7)
    lags: list[float] = []
    waiting: list[tuple[str, str, float]] = []  # (patient, suggestion id, committed at)
    time.sleep(warmup)
    deadline = time.monotonic() + duration
    next_probe = time.monotonic()
    while time.monotonic() < deadline or (waiting and time.monotonic() < deadline + PROBE_TIMEOUT):
        now = time.monotonic()
        if now >= next_probe and now < deadline:
            call_id, patient = uuid.uuid4(), rng.choice(patients)
            handlers.call_log(
                patient_id=uuid.UUID(patient),
                direction=ev.CallDirection.INBOUND,
                started_at=timezone.now(),
                duration_seconds=0,
                disposition=ev.CallDisposition.MISSED,
                actor=actor,
                call_id=call_id,
            )
            waiting.append((patient, f"callback.{call_id}.{patient}", time.monotonic()))
            next_probe = time.monotonic() + rng.uniform(0.2, 0.5)
        while waiting and waiting[0][1] in _listed(base, token, waiting[0][0]):
            lags.append(time.monotonic() - waiting.pop(0)[2])
        time.sleep(0.01)
    # A call whose suggestion never came counts with the longest wait it was given.
    lags.extend(PROBE_TIMEOUT for _ in waiting)
    results.put((lags, len(waiting)))


def _set_nice(nice: int, own_session: bool) -> None:
    """In the follower's process before it starts: its nice value, and in a session of its
    own its scheduling group's too (the group is what the kernel weighs against the
    clients' group, as systemd's CPUWeight= weighs one service against another)."""
    os.nice(nice)
    if own_session:
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(f"{nice}\n")


def _autogroups() -> str:
    """Whether the kernel groups processes by session for scheduling (Linux autogroups)."""
    try:
        flag = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()
    except OSError:
        return "unknown"
    return "on" if flag == "1" else "off"


def _listed(base: str, token: str, patient: str) -> set[str]:
    request = urllib.request.Request(f"{base}/api/v1/patients/{patient}/suggestions/")
    request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    return {row["suggestion_id"] for row in body["suggestions"]}


def _report(
    options: LagOptions,
    results: dict[tuple[str, int], dict[str, Any]],
    polling: Follower,
    woken: Follower,
    shared: Follower,
    caught_up: float,
) -> Report:
    report = Report("lag")
    rows = []
    for (label, clients), r in results.items():
        rows.append(
            [
                label,
                f"{clients}" + (f" ({r['rate']:,.0f} cmd/s)" if clients else ""),
                f"{r['probes']}",
                f"{r['missing']}",
                f"{r['p50'] * 1000:,.0f} ms",
                f"{r['p95'] * 1000:,.0f} ms",
                f"{r['max'] * 1000:,.0f} ms",
                f"{r['later_p95'] * 1000:,.0f} ms",
                f"{r['appended']:,.0f} / {r['projected']:,.0f}",
                f"{r['cpu_share']:.0%}",
                f"{r['load']:.1f}",
            ]
        )
    for clients in (0, options.clients):
        base, new = results[polling.label, clients], results[woken.label, clients]
        rows.append(
            [
                "ratio woken / polling",
                f"{clients}",
                "",
                "",
                f"{new['p50'] / base['p50']:.2f}" if base["p50"] else "",
                f"{new['p95'] / base['p95']:.2f}" if base["p95"] else "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    report.tables.append(
        Table(
            "lag: an append's commit to its suggestion readable through the API "
            f"({options.patients:,} patients, {options.events:,} events)",
            [
                "follower",
                "clients appending",
                "probes",
                "missing",
                "p50",
                "p95",
                "max",
                "p95 later half",
                "events/s in / projected",
                "follower CPU",
                "load",
            ],
            rows,
            notes=[
                "`manage.py run_projections --follow` as production runs it, every catch-up "
                "projection; a probe logs a missed call every 0.2-0.5 s and GETs "
                "/api/v1/patients/<id>/suggestions/ (gunicorn, 2 sync workers) until the "
                "call-back is listed",
                f"{options.warmup:g} s warm-up, then {options.duration:g} s of probes per "
                f"window; every projection caught up first ({caught_up:.0f} s)",
                "p95 later half: the probes of the window's second half (the follower has met "
                "the load's patients by then)",
                "events/s in / projected: appended to the log, and passed by the suggestions' "
                "checkpoint, while the clients ran; follower CPU: CPU seconds of the follower's "
                "processes per second of that time (100% = one core)",
                "load: 1-minute load average when the window started",
                "each follower runs in a session of its own, so the kernel schedules it as a "
                "group of its own (autogroup) beside the clients' group and PostgreSQL's, as "
                "systemd schedules a service of its own (deploy/README.md); the group's nice "
                f"value is {options.follower_nice} (about "
                f"{1.25**-options.follower_nice:.1f} times the clients' weight, as "
                "CPUWeight= gives a service) unless the row says nice 0; "
                f"'{shared.label}' is the same follower as one more process among the "
                f"{options.clients} clients (autogroups on this machine: {_autogroups()})",
            ],
        )
    )
    idle, loaded = results[woken.label, 0], results[woken.label, options.clients]
    report.targets.append(
        Target(
            name="lag p95, idle",
            measured=f"{idle['p95']:.2f} s",
            goal=f"< {TARGET_IDLE_P95:g} s",
            met=idle["p95"] < TARGET_IDLE_P95,
        )
    )
    report.targets.append(
        Target(
            name=f"lag p95, {options.clients} clients appending",
            measured=f"{loaded['p95']:.2f} s",
            goal=f"< {TARGET_LOAD_P95:g} s",
            met=loaded["p95"] < TARGET_LOAD_P95,
        )
    )
    return report


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]
