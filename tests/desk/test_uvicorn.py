"""The stream served by a real uvicorn process on config.asgi, as production runs it: an
event committed by another process reaches an open stream through LISTEN/NOTIFY."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from config.database import url_naming
from crm.desk import feed
from tests.desk.conftest import STREAM, parse

pytestmark = [
    pytest.mark.processes,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("committed"),
]

ROOT = Path(__file__).resolve().parents[2]


def _env_example(name: str) -> str:
    """A setting as deploy/env.example gives it to production's processes."""
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2]
    raise AssertionError(f"deploy/env.example does not set {name}")


@pytest.fixture
def uvicorn_process(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": url_naming(os.environ["DATABASE_URL"], connection.settings_dict["NAME"]),
        # Only the notification can deliver within the test's second.
        "DESK_FALLBACK_POLL_MS": "30000",
        "ALLOWED_HOSTS": "127.0.0.1",
        # As production's environment file sets it (uvicorn reads UVICORN_* options).
        "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN": _env_example("UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN"),
    }
    log = tmp_path / "uvicorn.log"
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def uvicorn(uvicorn_process: tuple[int, subprocess.Popen[bytes]]) -> int:
    return uvicorn_process[0]


def test_uvicorn_pushes_an_event_committed_elsewhere_within_a_second(uvicorn, make_user):
    token = Token.objects.create(user=make_user("agent.uvicorn", "agent")).key
    client = http.client.HTTPConnection("127.0.0.1", uvicorn, timeout=10)
    client.request("GET", STREAM, headers={"Authorization": f"Token {token}"})
    response = client.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert response.readline() == b"retry: 2000\n"
    time.sleep(0.5)  # the server's broadcaster is now listening

    started = time.monotonic()
    event_id = feed.publish("queue_changed", {"created": ["s"], "claimed": [], "closed": []})
    text = ""
    while f"id: {event_id}\n" not in text or not text.endswith("\n\n"):
        text += response.readline().decode()
    elapsed = time.monotonic() - started
    client.close()

    [message] = [m for m in parse(text) if m.id == event_id]
    assert message.event == "queue_changed" and message.json()["created"] == ["s"]
    assert elapsed < 1.0


def test_a_stopped_uvicorn_ends_its_open_streams_and_exits(uvicorn_process, make_user):
    """A deploy stops uvicorn with TERM while desks hold streams open all day: it must not
    wait for them (they would keep it up to DESK_STREAM_MAX_SECONDS); it ends them, and each
    desktop reconnects with its Last-Event-ID to the next process."""
    port, server = uvicorn_process
    token = Token.objects.create(user=make_user("agent.uvicorn", "agent")).key
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    client.request("GET", STREAM, headers={"Authorization": f"Token {token}"})
    response = client.getresponse()
    assert response.status == 200 and response.readline() == b"retry: 2000\n"

    started = time.monotonic()
    server.terminate()
    server.wait(30)
    while response.readline():
        pass  # the stream ends: the desktop sees its line drop and reconnects
    client.close()

    grace = int(_env_example("UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN"))
    assert time.monotonic() - started < grace + 5
