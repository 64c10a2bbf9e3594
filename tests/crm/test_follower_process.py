"""`manage.py run_projections --follow` as a real process: a missed call's call-back is in the
queue within a second of its commit, and the follower outlives the database going away."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from config.database import url_naming
from engagement.models import Suggestion
from tests.crm.test_follower import missed_call

pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
# So long that only a wake-up explains a catch-up within the second.
LONG_INTERVAL = "60"


def start_follower(database_url: str, log: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url,
    }
    command = [sys.executable, "manage.py", "run_projections", "--follow", *args]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until(what: str, found, seconds: float, follower: subprocess.Popen[bytes], log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if follower.poll() is not None:
            pytest.fail(f"the follower exited ({follower.returncode}):\n{log.read_text()}")
        if result := found():
            return result
        time.sleep(0.01)
    pytest.fail(f"no {what} after {seconds} s:\n{log.read_text()}")


def stop(follower: subprocess.Popen[bytes]) -> int:
    follower.send_signal(signal.SIGTERM)
    try:
        return follower.wait(timeout=15)
    except subprocess.TimeoutExpired:
        follower.kill()
        follower.wait()
        raise


@pytest.fixture(params=[(), ("--processes",)], ids=["one loop", "a process per projection"])
def follower_on_postgres(
    request: pytest.FixtureRequest, transactional_db: None, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    url = url_naming(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])
    log = tmp_path / "follower.log"
    follower = start_follower(url, log, "--interval", LONG_INTERVAL, *request.param)
    try:
        wait_until("first round", lambda: b"Caught up" in log.read_bytes(), 60, follower, log)
        yield follower, log
    finally:
        if follower.poll() is None:
            stop(follower)


@pytest.mark.postgres
def test_a_missed_call_is_in_the_queue_within_a_second_of_its_commit(
    register, follower_on_postgres
):
    follower, log = follower_on_postgres
    patient = register()

    owed = missed_call(patient)
    committed = time.monotonic()
    wait_until(
        "call-back",
        lambda: Suggestion.objects.filter(suggestion_id=owed).exists(),
        5,
        follower,
        log,
    )

    assert time.monotonic() - committed < 1.0
    assert stop(follower) == 0  # TERM ends it between rounds, cleanly


@pytest.mark.postgres
def test_the_follower_outlives_the_database_dropping_its_connections(
    register, follower_on_postgres
):
    follower, log = follower_on_postgres
    patient = register()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchall(), "the follower held no connection to drop"

    owed = missed_call(patient)  # announced while the follower may not be listening yet

    # Listening again, the follower catches up from its checkpoints (not 60 s later).
    wait_until(
        "call-back",
        lambda: Suggestion.objects.filter(suggestion_id=owed).exists(),
        10,
        follower,
        log,
    )
    wait_until(
        "word of the lost listener",
        lambda: b"wake-up connection was lost" in log.read_bytes(),
        10,
        follower,
        log,
    )
    # Listening again: the next commit wakes it as before.
    again = missed_call(patient)
    committed = time.monotonic()
    wait_until(
        "call-back",
        lambda: Suggestion.objects.filter(suggestion_id=again).exists(),
        5,
        follower,
        log,
    )
    assert time.monotonic() - committed < 1.0
    assert stop(follower) == 0


def test_on_sqlite_a_missed_call_is_in_the_queue_within_a_second_of_its_commit(tmp_path):
    """SQLite has no NOTIFY: the follower reads the log's last position five times a second."""
    url = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": url}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    log = tmp_path / "follower.log"
    follower = start_follower(url, log, "--interval", LONG_INTERVAL)
    try:
        wait_until("first round", lambda: b"Caught up" in log.read_bytes(), 60, follower, log)
        script = (
            "from tests.crm.test_follower import missed_call; "
            "from tests.crm.test_follower_process import register_in_a_shell; "
            "print(missed_call(register_in_a_shell()))"
        )
        shell = [*manage, "shell", "-v0", "-c", script]
        done = subprocess.run(shell, cwd=ROOT, env=env, check=True, capture_output=True)
        committed = time.monotonic()  # the shell has exited: its commit is behind us
        owed = done.stdout.decode().strip().splitlines()[-1]

        def owed_in_the_file() -> bool:
            with sqlite3.connect(tmp_path / "crm.sqlite3") as db:
                row = db.execute(
                    "SELECT 1 FROM engagement_suggestion WHERE suggestion_id = ?", [owed]
                ).fetchone()
            return row is not None

        wait_until("call-back", owed_in_the_file, 5, follower, log)
        assert time.monotonic() - committed < 1.0
        assert stop(follower) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()


def register_in_a_shell() -> uuid.UUID:
    """A patient registered through the real handler, from `manage.py shell`."""
    import datetime as dt

    from crm import handlers
    from crm.handlers import Actor

    return handlers.patient_register(
        first_name="Rowan",
        last_name="Testpatient",
        date_of_birth=dt.date(1984, 5, 17),
        phone="(617) 555-0134",
        actor=Actor(name="frontdesk.one", channel="admin", role="front_desk"),
    ).patient_id
