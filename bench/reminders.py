"""`reminders`: 10,000 due reminders sent by 2 dispatcher processes to a fake Twilio server;
texts handed over per second, and proof of exactly once (docs/benchmarks.md, Reminders)."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.database import (
    PROJECT_DIR,
    conninfo,
    database_name,
    django_env,
    drop_database,
    prepare,
    setup_django,
    sibling_url,
)
from bench.report import Report, Table, Target, rate

TARGET_RATE = 200  # texts handed over per second
ACCOUNT = "AC" + "0" * 32
TOKEN = "fake-twilio-auth-token"


@dataclass(frozen=True, slots=True)
class RemindersOptions:
    url: str
    reminders: int = 10_000
    workers: int = 2
    batch_size: int = 100
    baseline_posts: int = 4_000


def reminders_url(base_url: str) -> str:
    return sibling_url(base_url, f"{database_name(base_url)}_reminders")


def area_codes() -> list[int]:
    import phonenumbers

    return [
        code
        for code in range(201, 990)
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+1{code}5550150"))
    ]


def phone_of(n: int, codes: list[int]) -> str:
    """Fictional 555-01xx numbers, 100 per area code: a number of its own per patient."""
    return f"+1{codes[n // 100]}5550{100 + n % 100}"


def worker_env(url: str, twilio_url: str, batch_size: int) -> dict[str, str]:
    env = django_env(url)
    env.update(
        {
            "SMS_BACKEND": "twilio",
            "TWILIO_API_BASE_URL": twilio_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
            # SMS_BACKEND=twilio refuses to start without the clinic's own name and number.
            "CLINIC_SHORT_NAME": "Harbor Clinic",
            "CLINIC_PHONE": "+16175550100",
            "REMINDERS_OFFSETS_HOURS": "24",
            "REMINDERS_SEND_WINDOW": "00:00-23:59",
            "REMINDERS_BATCH_SIZE": str(batch_size),
        }
    )
    return env


# --- child processes ---------------------------------------------------------------------


def _seed_child(url: str, first: int, last: int) -> None:
    """Patients first..last-1, through the handlers, with asynchronous commits."""
    setup_django(url)
    from django.db import connection
    from django.utils import timezone

    from crm import handlers
    from crm.domain import events as ev
    from crm.handlers import Actor

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    desk = Actor(name="bench.seed", channel="fixture")
    codes = area_codes()
    wall = timezone.now()
    booked = wall - dt.timedelta(days=2)
    for n in range(first, last):
        patient = handlers.patient_register(
            first_name=f"Sam{n}",
            last_name="Benchpatient",
            date_of_birth=dt.date(1980, 1, 1) + dt.timedelta(days=n % 9000),
            phone=phone_of(n, codes),
            timezone_name="America/New_York",
            actor=desk,
            now=booked,
            occurred_at=booked,
        ).patient_id
        handlers.consent_record(
            patient_id=patient,
            channel=ev.Channel.SMS,
            purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
            source=ev.ConsentSource.VERBAL,
            actor=desk,
            occurred_at=booked,
        )
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.FOLLOW_UP,
            starts_at=wall + dt.timedelta(hours=12),  # its 24-hour reminder is 12 h overdue
            provider="Dr. Lee",
            location="Main St clinic",
            actor=desk,
            now=booked,
            occurred_at=booked,
        )


def _catch_up_child(url: str) -> None:
    setup_django(url)
    from crm.projections import runner

    for name in ("reminders", "sms_numbers"):
        projection = runner.registered().get(name)
        if projection is not None:
            runner.catch_up(projection, batch_size=2000)


def _worker_child(url: str, start_at: float) -> None:
    """One dispatcher pass, begun at `start_at` (wall clock) so the workers start together."""
    setup_django(url)
    from django.db import connection

    from reminders.dispatch import dispatch_due

    connection.ensure_connection()
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    report = dispatch_due(catch_up=False)
    print(json.dumps({"began": began, "ended": time.time(), "sent": report.sent}), flush=True)


def _post_child(twilio_url: str, posts: int, start_at: float) -> None:
    """Raw keep-alive POSTs, no database: the baseline."""
    url = urllib.parse.urlsplit(twilio_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port)
    auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    path = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    for n in range(posts):
        body = urllib.parse.urlencode(
            {"To": f"+1617555{n % 10000:04d}", "Body": f"baseline {n}", "From": "+16175550100"}
        ).encode()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 201, response.status
    print(json.dumps({"began": began, "ended": time.time(), "sent": posts}), flush=True)


# --- the run -----------------------------------------------------------------------------


def _spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.reminders", *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _fake_twilio() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "fixtures.fake_twilio", "--port", "0"],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def _together(children: list[subprocess.Popen[str]]) -> tuple[float, int]:
    """(seconds from the first start to the last end, texts) over the children's reports."""
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=3600)
        if child.returncode != 0:
            raise SystemExit(f"a benchmark process failed ({child.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    began = min(r["began"] for r in reports)
    ended = max(r["ended"] for r in reports)
    return ended - began, sum(int(r["sent"]) for r in reports)


def _server_record(twilio_url: str) -> list[dict[str, Any]]:
    url = urllib.parse.urlsplit(twilio_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
    auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    query = urllib.parse.urlencode({"PageSize": 1_000_000})
    connection.request(
        "GET",
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json?{query}",
        headers={"Authorization": auth},
    )
    messages: list[dict[str, Any]] = json.loads(connection.getresponse().read())["messages"]
    return messages


def run(options: RemindersOptions) -> Report:
    url = reminders_url(options.url)
    due = _seed(url, options)
    baseline_seconds, baseline_posts = _baseline(options)
    seconds, sent, record = _dispatch(url, options)
    proof = _proof(url, record, options)
    throughput = sent / seconds if seconds else 0.0
    baseline = baseline_posts / baseline_seconds if baseline_seconds else 0.0
    table = Table(
        f"reminders: {options.reminders:,} due at once, {options.workers} workers, "
        f"batches of {options.batch_size}, twilio backend against a local fake server",
        ["measure", "texts", "seconds", "per second"],
        [
            [
                "baseline: raw keep-alive POSTs, 2 processes",
                f"{baseline_posts:,}",
                f"{baseline_seconds:.1f}",
                rate(baseline),
            ],
            [
                "dispatcher: claim, render, hand over, record",
                f"{sent:,}",
                f"{seconds:.1f}",
                rate(throughput),
            ],
        ],
        notes=[
            f"due before the run: {due:,}; {proof.handed_over}",
            proof.recorded,
            f"dispatcher / baseline: {throughput / baseline:.0%}" if baseline else "",
        ],
    )
    return Report(
        name="reminders",
        tables=[table],
        targets=[
            Target(
                name="texts handed over per second",
                measured=rate(throughput),
                goal=f">= {TARGET_RATE}",
                met=throughput >= TARGET_RATE,
            ),
            Target(
                name="each reminder handed over exactly once",
                measured="yes" if proof.once else "NO",
                goal="server count 1 per reminder, SmsSent once each",
                met=proof.once,
            ),
        ],
    )


def _seed(url: str, options: RemindersOptions) -> int:
    """A fresh database with `options.reminders` patients whose reminder is due, seeded by
    `options.workers` processes and scheduled; how many reminders are due."""
    print(f"  reminders: fresh database {database_name(url)}", flush=True)
    drop_database(url)
    prepare(url)
    env = django_env(url)
    began = time.monotonic()
    per = -(-options.reminders // options.workers)
    seeders = [
        _spawn(["seed", url, str(first), str(min(first + per, options.reminders))], env)
        for first in range(0, options.reminders, per)
    ]
    for seeder in seeders:
        if seeder.wait() != 0:
            raise SystemExit("seeding failed")
    subprocess.run(
        [sys.executable, "-m", "bench.reminders", "catch-up", url], cwd=PROJECT_DIR, check=True
    )
    print(
        f"  reminders: {options.reminders:,} patients seeded and scheduled in "
        f"{time.monotonic() - began:,.0f} s",
        flush=True,
    )
    with psycopg.connect(conninfo(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM reminders_reminder WHERE state = 'scheduled' AND due_at <= now()"
        ).fetchone()
    return int(row[0]) if row else 0


def _baseline(options: RemindersOptions) -> tuple[float, int]:
    """Raw keep-alive POSTs to a fake server from 2 processes: (seconds, posts)."""
    server, twilio_url = _fake_twilio()
    try:
        start_at = time.time() + 1.0
        posts = [
            _spawn(["post", twilio_url, str(options.baseline_posts // 2), str(start_at)])
            for _ in range(2)
        ]
        return _together(posts)
    finally:
        server.terminate()
        server.wait()


def _dispatch(url: str, options: RemindersOptions) -> tuple[float, int, list[dict[str, Any]]]:
    """The dispatcher's workers, started together against a fake Twilio: (seconds, texts
    handed over, the server's record of what it got)."""
    server, twilio_url = _fake_twilio()
    try:
        env = worker_env(url, twilio_url, options.batch_size)
        start_at = time.time() + 3.0  # Django set up and connected in every worker first
        workers = [_spawn(["worker", url, str(start_at)], env) for _ in range(options.workers)]
        seconds, sent = _together(workers)
        return seconds, sent, _server_record(twilio_url)
    finally:
        server.terminate()
        server.wait()


@dataclass(frozen=True)
class _Proof:
    once: bool
    handed_over: str
    recorded: str


def _proof(url: str, record: list[dict[str, Any]], options: RemindersOptions) -> _Proof:
    """Proof of exactly once: the server's own record holds one text per number, and the
    log one SmsSent per patient."""
    per_number = Counter(message["to"] for message in record)
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT stream_id) FROM crm_event WHERE event_type = 'SmsSent'"
        ).fetchone()
        outbox = conn.execute(
            "SELECT count(*), count(DISTINCT provider_message_id) FROM "
            "reminders_outbound_message WHERE status = 'sent'"
        ).fetchone()
    assert rows is not None and outbox is not None
    sms_sent, sms_streams = int(rows[0]), int(rows[1])
    sids_match = {m["sid"] for m in record} == set(_outbox_sids(url))
    most = max(per_number.values(), default=0)
    return _Proof(
        once=(
            len(record) == options.reminders
            and len(per_number) == options.reminders
            and most == 1
            and sms_sent == sms_streams == options.reminders
            and sids_match
        ),
        handed_over=(
            f"handed over (server's record): {len(record):,} to {len(per_number):,} numbers, "
            f"at most {most} per number"
        ),
        recorded=(
            f"SmsSent events: {sms_sent:,} on {sms_streams:,} patient streams; outbox rows "
            f"sent: {outbox[0]:,} with {outbox[1]:,} distinct provider ids; "
            f"provider ids match the server's: {'yes' if sids_match else 'NO'}"
        ),
    )


def _outbox_sids(url: str) -> list[str]:
    with psycopg.connect(conninfo(url)) as conn:
        return [
            str(row[0])
            for row in conn.execute(
                "SELECT provider_message_id FROM reminders_outbound_message WHERE status = 'sent'"
            )
        ]


def main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "seed":
        _seed_child(rest[0], int(rest[1]), int(rest[2]))
    elif command == "catch-up":
        _catch_up_child(rest[0])
    elif command == "worker":
        _worker_child(rest[0], float(rest[1]))
    elif command == "post":
        _post_child(rest[0], int(rest[1]), float(rest[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
