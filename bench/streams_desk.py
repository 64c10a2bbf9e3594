"""`desk-streams`: how many desk streams one uvicorn process holds (one event to all of them,
memory, threads, connections), and the API under uvicorn beside gunicorn (docs/desk.md)."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil
import psycopg

from bench.database import PROJECT_DIR, conninfo, database_name, django_env, prepare, setup_django
from bench.database import sibling_url as _sibling
from bench.processes import free_port, stop
from bench.report import Report, Table, Target

STREAM = "/api/v1/desk/stream"
LOOKUP = "/api/v1/patients/lookup?phone=6175550134"
USERNAME = "bench.desk"
# The bar for a pop: on the agent's screen within 2 s of the call.
TARGET_DELIVERY_S = 2.0
# A large contact center's desks on one process; more desks, more uvicorn workers.
TARGET_STREAMS = 2000


@dataclass(frozen=True, slots=True)
class DeskStreamsOptions:
    url: str
    counts: tuple[int, ...]  # streams open at once, measured in turn
    api_seconds: float  # per server, 0 skips the API comparison
    api_connections: int
    api_workers: int


def run(options: DeskStreamsOptions) -> Report:
    url = _sibling(options.url, database_name(options.url) + "_desk")
    prepare(url)
    setup_django(url)
    token = _agent_token()
    report = Report("desk-streams")
    streams = Table(
        "One uvicorn process (1 worker), N streams open at once; one event published",
        [
            "streams",
            "open all (s)",
            "first (ms)",
            "p50 (ms)",
            "all (ms)",
            "RSS (MB)",
            "threads",
            "DB conns",
        ],
    )
    held = 0  # the most streams that all had the event within the target
    with _server(url, "uvicorn", workers=1) as (port, pid):
        for count in options.counts:
            row = asyncio.run(_streams(port, pid, token, count, url))
            streams.rows.append(row.cells())
            if row.received == count and row.all_s < TARGET_DELIVERY_S:
                held = max(held, count)
    streams.notes.append(
        "first/p50/all: from the commit of one event to its message read by the first, the "
        "median and the last stream. DB conns: the server's connections to PostgreSQL "
        "while every stream is open (the broadcaster's LISTEN connection)."
    )
    report.tables.append(streams)
    report.targets.append(streams_target(held))
    if options.api_seconds > 0:
        report.tables.append(_api_table(url, token, options))
    return report


def streams_target(held: int) -> Target:
    """The target row for `held`, the most streams that all had the event in time."""
    return Target(
        name=f"streams one process holds, an event reaching all within {TARGET_DELIVERY_S:.0f} s",
        goal=f">= {TARGET_STREAMS:,}",
        measured=f"{held:,}",
        met=held >= TARGET_STREAMS,
    )


# --- the streams ---------------------------------------------------------------------------


@dataclass(slots=True)
class StreamsRow:
    count: int
    open_s: float
    received: int
    first_s: float
    p50_s: float
    all_s: float
    rss_mb: float
    threads: int
    connections: int

    def cells(self) -> list[str]:
        missing = "" if self.received == self.count else f" ({self.received} got it)"
        return [
            f"{self.count:,}{missing}",
            f"{self.open_s:.1f}",
            f"{self.first_s * 1000:.0f}",
            f"{self.p50_s * 1000:.0f}",
            f"{self.all_s * 1000:.0f}",
            f"{self.rss_mb:.0f}",
            str(self.threads),
            str(self.connections),
        ]


async def _streams(port: int, pid: int, token: str, count: int, url: str) -> StreamsRow:
    request = (
        f"GET {STREAM} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()
    started = time.monotonic()
    opened = []
    # In waves, so the server's accept queue is never the limit being measured.
    for first in range(0, count, 200):
        wave = [_open(port, request) for _ in range(first, min(count, first + 200))]
        opened += await asyncio.gather(*wave)
    open_s = time.monotonic() - started
    await asyncio.sleep(1.0)
    server = psutil.Process(pid)
    rss = server.memory_info().rss / 2**20
    threads = server.num_threads()
    connections = _server_connections(url)
    event_id, committed = await asyncio.to_thread(_publish)
    marker = f"id: {event_id}\n".encode()
    arrivals = await asyncio.gather(*(_until(r, buffer, marker) for r, _, buffer in opened))
    for _, writer, _ in opened:
        writer.close()
    delays = sorted(a - committed for a in arrivals if a is not None)
    await asyncio.sleep(1.0)  # the server lets the streams go before the next count
    return StreamsRow(
        count=count,
        open_s=open_s,
        received=len(delays),
        first_s=delays[0] if delays else float("nan"),
        p50_s=statistics.median(delays) if delays else float("nan"),
        all_s=delays[-1] if delays else float("nan"),
        rss_mb=rss,
        threads=threads,
        connections=connections,
    )


async def _open(
    port: int, request: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytearray]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
    writer.write(request)
    await writer.drain()
    buffer = bytearray()
    while b"retry: 2000" not in buffer:
        chunk = await asyncio.wait_for(reader.read(65536), 30)
        if not chunk:
            raise RuntimeError(f"the server closed a stream at once: {bytes(buffer)[:300]!r}")
        buffer += chunk
    return reader, writer, buffer


async def _until(reader: asyncio.StreamReader, buffer: bytearray, marker: bytes) -> float | None:
    try:
        while marker not in buffer:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            if not chunk:
                return None
            buffer += chunk
    except TimeoutError:
        return None
    return time.monotonic()


def _publish() -> tuple[int, float]:
    from crm.desk import feed

    event_id = feed.publish("queue_changed", {"created": ["bench"], "claimed": [], "closed": []})
    return event_id, time.monotonic()  # autocommit: committed when publish returns


def _server_connections(url: str) -> int:
    with psycopg.connect(conninfo(url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchone()
    from django.db import connection as ours

    # This process's own Django connection is one of them.
    return int(row[0] if row else 0) - (1 if ours.connection is not None else 0)


# --- the API under each server -------------------------------------------------------------


def _api_table(url: str, token: str, options: DeskStreamsOptions) -> Table:
    table = Table(
        f"The screen pop under load, {options.api_workers} workers each, "
        f"{options.api_connections} clients, {options.api_seconds:.0f} s",
        ["server", "requests/s", "p50 (ms)", "p99 (ms)", "errors"],
    )
    for name in ("gunicorn", "uvicorn"):
        with _server(url, name, workers=options.api_workers) as (port, _):
            done, errors, latencies, seconds = asyncio.run(
                _load(port, token, options.api_connections, options.api_seconds)
            )
        latencies.sort()
        table.rows.append(
            [
                name,
                f"{done / seconds:,.0f}",
                f"{latencies[len(latencies) // 2] * 1000:.1f}" if latencies else "-",
                f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f}" if latencies else "-",
                str(errors),
            ]
        )
    table.notes.append(
        "GET /api/v1/patients/lookup (one patient), a new connection per request for both "
        "(gunicorn's sync workers close each one). gunicorn: deploy/gunicorn.conf.py, "
        "DATABASE_CONN_MAX_AGE=60; uvicorn: config.asgi, where Django opens a connection "
        "per request."
    )
    return table


async def _load(
    port: int, token: str, clients: int, seconds: float
) -> tuple[int, int, list[float], float]:
    request = (
        f"GET {LOOKUP} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + 2.0 + seconds
    measuring_from = time.monotonic() + 2.0  # warm-up

    async def client() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                answer = await reader.read()
                writer.close()
                ok = answer.startswith(b"HTTP/1.1 200")
            except OSError:
                ok = False
            if began >= measuring_from:
                if ok:
                    latencies.append(time.monotonic() - began)
                else:
                    errors += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), errors, latencies, seconds


# --- servers and set-up ------------------------------------------------------------------


@contextmanager
def _server(url: str, name: str, *, workers: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = django_env(url)
    env.update(
        ALLOWED_HOSTS="127.0.0.1",
        API_THROTTLE_RATE="1000000/minute",
        DESK_STREAM_MAX_SECONDS="3600",
        LOG_LEVEL="WARNING",
    )
    if name == "gunicorn":
        env.update(GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers))
        env.update(DATABASE_CONN_MAX_AGE="60", GUNICORN_LOG_LEVEL="warning")
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        command += ["--access-logfile", "/dev/null"]
    else:
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        command += ["--no-access-log", "--log-level", "warning", "--backlog", "4096"]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env)
    try:
        _wait_ready(port, process)
        yield port, process.pid
    finally:
        stop(process, timeout=15)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz within 60 s")


def _agent_token() -> str:
    import datetime as dt

    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from crm import handlers
    from crm.handlers import Actor
    from crm.models import PatientProfile

    user, _ = User.objects.get_or_create(username=USERNAME)
    user.groups.add(Group.objects.get(name="agent"))  # the roles' groups: migration 0008
    Token.objects.filter(user=user).delete()
    if not PatientProfile.objects.filter(phone="+16175550134").exists():
        handlers.patient_register(
            first_name="Rowan",
            last_name="Benchpatient",
            date_of_birth=dt.date(1984, 5, 17),
            phone="(617) 555-0134",
            actor=Actor(name="bench", channel="fixture", role="front_desk"),
        )
    return str(Token.objects.create(user=user).key)


def add_options(option: Callable[..., None]) -> None:
    """The benchmark's flags (each with its BENCH_ variable), for bench/__main__.py."""
    option(
        "--desk-streams",
        "500,1000,2000,4000",
        "desk-streams: streams open at once on one uvicorn process",
        type=_counts,
    )
    option("--desk-api-seconds", 20, "desk-streams: seconds of API load per server", type=float)
    option("--desk-api-connections", 16, "desk-streams: concurrent API clients")
    option("--desk-api-workers", 2, "desk-streams: worker processes of each server")


def _counts(value: str) -> list[int]:
    counts = [int(part) for part in value.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise ValueError(f"{value!r}: give stream counts like 500,1000,2000")
    return counts


def options_from(args: Any) -> DeskStreamsOptions:
    return DeskStreamsOptions(
        url=args.url,
        counts=tuple(args.desk_streams),
        api_seconds=args.desk_api_seconds,
        api_connections=args.desk_api_connections,
        api_workers=args.desk_api_workers,
    )


if __name__ == "__main__":  # pragma: no cover - `python -m bench desk-streams` is the way
    os.execv(sys.executable, [sys.executable, "-m", "bench", "desk-streams", *sys.argv[1:]])
