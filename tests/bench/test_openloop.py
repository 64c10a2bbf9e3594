"""The open-loop generator (bench/openloop.py) counts a server's stall against every request
due during it, as a contact center's callers would feel it, not against one request only."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bench.openloop import OpenLoopResult, Plan, measure

STALL_AFTER = 0.5  # seconds into the run
STALL = 1.0


class _OneAtATime(HTTPServer):
    """Serves one request at a time, like a sync worker; the rest wait in the backlog."""

    request_queue_size = 512

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.first_at: float | None = None
        self.stalled = False


class _Handler(BaseHTTPRequestHandler):
    server: _OneAtATime

    def do_GET(self) -> None:
        now = time.monotonic()
        server = self.server
        if server.first_at is None:
            server.first_at = now
        elif not server.stalled and now - server.first_at >= STALL_AFTER:
            server.stalled = True
            time.sleep(STALL)
        status = 404 if self.path.endswith("unknown") else 200
        body = b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stalling_server() -> Iterator[_OneAtATime]:
    server = _OneAtATime()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _measured(plan: Plan) -> OpenLoopResult:
    # On a thread of its own, as the generator runs in a process of its own: a test run
    # earlier in this process (Playwright's sync API) may leave an event loop on this thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, measure(plan)).result()


def test_every_request_due_during_a_one_second_stall_is_reported_slow(
    stalling_server: _OneAtATime,
) -> None:
    host, port = stalling_server.server_address[:2]
    plan = Plan(
        base=f"http://{host!s}:{port}",
        targets=[("/lookup?phone=known", 200), ("/lookup?phone=unknown", 404)],
        rate=100,
        duration=2.0,
        timeout=5.0,
    )

    result = _measured(plan)

    assert stalling_server.stalled
    assert result.scheduled == result.completed == 200
    assert result.errors == 0
    assert result.statuses == {"200": 100, "404": 100}
    # About 100 requests were due while the server slept, waiting from 1 s down to nothing:
    # a quarter of all wait over half a second. A closed-loop tool, which sends the next
    # request only when the last one is answered, would have one slow request in 200.
    assert result.p95_ms >= 700
    assert result.max_ms >= 0.9 * STALL * 1000
    # Requests due before the stall were answered at once.
    assert result.p50_ms < STALL * 1000 / 2


def test_an_answer_other_than_the_expected_status_is_an_error(
    stalling_server: _OneAtATime,
) -> None:
    host, port = stalling_server.server_address[:2]
    plan = Plan(
        base=f"http://{host!s}:{port}",
        targets=[("/lookup?phone=unknown", 200)],
        rate=50,
        duration=0.2,
    )

    result = _measured(plan)

    assert result.unexpected_status == result.errors == 10
    assert result.timeouts == result.connection_errors == 0
