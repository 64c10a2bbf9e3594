"""The stream as servers serve it: under WSGI (the test server, as runserver and gunicorn
do) read by a real HTTP client, and under ASGI (config.asgi, as uvicorn does)."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
import warnings
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connection
from rest_framework.authtoken.models import Token

from config.asgi import application
from crm.desk import feed
from crm.desk.broadcast import BROADCASTER
from tests.desk.conftest import STREAM, parse

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("committed")]


def _token(make_user: Any, name: str) -> str:
    return str(Token.objects.create(user=make_user(name, "agent")).key)


def _read_until(response: http.client.HTTPResponse, kind: str, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        line = response.readline().decode()
        text += line
        complete = text[: text.rfind("\n\n") + 2]  # whole messages only
        for message in parse(complete):
            if message.event == kind:
                return message
    raise AssertionError(f"no {kind} within {seconds} s: {text!r}")


def test_under_wsgi_a_real_client_receives_the_event_as_it_is_committed(live_server, make_user):
    token = _token(make_user, "agent.wsgi")
    address = urlsplit(live_server.url)
    client = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    client.request(
        "GET", STREAM, headers={"Authorization": f"Token {token}", "Accept": "text/event-stream"}
    )
    response = client.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert response.readline() == b"retry: 2000\n"

    started = time.monotonic()
    event_id = feed.publish("call_ended", {"call_sid": "CA20", "disposition": "connected"})
    message = _read_until(response, "call_ended", 3.0)

    assert message.id == event_id and message.json()["call_sid"] == "CA20"
    assert time.monotonic() - started < 2.0  # the budget for a pop; ~0.3 s when idle
    client.close()


class AsgiClient:
    """Speaks ASGI to the application as a server would, one request."""

    def __init__(self, path: str, headers: dict[str, str], query: str = "") -> None:
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
        }
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self._asked = False

    async def receive(self) -> dict[str, Any]:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        await self.sent.put(message)

    async def next(self, seconds: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.sent.get(), seconds)


def test_under_asgi_the_stream_is_served_by_the_event_loop_and_ends_when_the_client_leaves(
    make_user,
):
    token = _token(make_user, "agent.asgi")
    other = _token(make_user, "agent.other")

    async def scenario() -> dict[str, Any]:
        mine = AsgiClient(STREAM, {"Authorization": f"Token {token}"})
        theirs = AsgiClient(STREAM, {"Authorization": f"Token {other}"})
        tasks = [
            asyncio.create_task(application(c.scope, c.receive, c.send)) for c in (mine, theirs)
        ]
        found: dict[str, Any] = {}
        for client in (mine, theirs):
            start = await client.next()
            assert start["type"] == "http.response.start" and start["status"] == 200
            headers = {k.lower(): v for k, v in start["headers"]}
            assert headers[b"content-type"] == b"text/event-stream"
            assert (await client.next())["body"].startswith(b"retry: 2000")
        started = time.monotonic()
        private = await db(
            feed.publish, "call_ended", {"call_sid": "CA21"}, user_id=await _user_id(token)
        )
        shared = await db(feed.publish, "queue_changed", {"created": ["x"]})
        first = parse((await mine.next())["body"].decode())
        found["mine"] = [m.id for m in first]
        if len(first) < 2:
            found["mine"] += [m.id for m in parse((await mine.next())["body"].decode())]
        found["delay"] = time.monotonic() - started
        found["theirs"] = [m.id for m in parse((await theirs.next())["body"].decode())]
        found["ids"] = [private, shared]
        for client in (mine, theirs):
            client.gone.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        return found

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = run(scenario)

    # Django warns when it must iterate a sync generator under ASGI (one thread per stream).
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
    assert found["mine"] == found["ids"]
    assert found["theirs"] == found["ids"][1:]
    assert found["delay"] < 2.0  # the budget for a pop; ~0.3 s when idle
    assert BROADCASTER.open_streams() == 0


def run(scenario: Any) -> Any:
    """Runs `scenario()` to its end on an event loop of its own thread, as uvicorn does: the
    browser tests' Playwright keeps a loop running on the main thread."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(scenario())
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


async def _user_id(key: str) -> int:
    return int(await db(lambda: Token.objects.get(key=key).user_id))


async def db(work: Any, *args: Any, **kwargs: Any) -> Any:
    """`work` in asgiref's thread, whose connection is closed after: a test leaves none.

    SQLite's test database is in memory with a shared cache, where a table another thread is
    reading (the broadcaster) is locked for writing and the busy timeout does not apply (the
    product's file database runs in WAL mode, where readers never block the writer): a
    refusal of that kind is tried again, as the broadcaster does for its reads."""

    def once() -> Any:
        for attempt in range(50):
            try:
                return work(*args, **kwargs)
            except OperationalError as exc:
                if connection.vendor != "sqlite" or "table is locked" not in str(exc):
                    raise
                if attempt == 49:
                    raise
                time.sleep(0.05)
            finally:
                connection.close()

    return await sync_to_async(once)()


def test_under_asgi_a_refusal_is_a_problem_document(make_user):

    async def scenario() -> tuple[int, bytes]:
        client = AsgiClient(STREAM, {"Authorization": "Token not-a-key"})
        task = asyncio.create_task(application(client.scope, client.receive, client.send))
        start, body = await client.next(), await client.next()
        client.gone.set()
        await asyncio.wait_for(task, 5)
        return start["status"], body["body"]

    status, body = run(scenario)

    assert status == 401 and b'"status":401' in body.replace(b" ", b"")
    assert connection.vendor in ("sqlite", "postgresql")


@pytest.mark.postgres
def test_postgres_idle_streams_hold_no_database_connection_but_the_broadcasters_one(make_user):
    tokens = [_token(make_user, f"agent.idle{n}") for n in range(5)]

    def others() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int(cursor.fetchone()[0])

    async def scenario() -> tuple[int, int, int]:
        before = await db(others)
        threads = threading.active_count()
        clients = [AsgiClient(STREAM, {"Authorization": f"Token {t}"}) for t in tokens]
        tasks = [asyncio.create_task(application(c.scope, c.receive, c.send)) for c in clients]
        for client in clients:
            await client.next()
            await client.next()  # retry: the stream is open and idle
        await asyncio.sleep(0.5)
        during = await db(others)
        threads = threading.active_count() - threads
        for client in clients:
            client.gone.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        return before, during, threads

    before, during, threads = run(scenario)

    assert BROADCASTER.open_streams() == 0
    # Five open streams: the broadcaster's LISTEN connection only (the openings' shared
    # thread is the one `others` runs in, so its connection is not counted).
    assert during <= before + 1
    assert threads <= 2  # the broadcaster and asgiref's thread, not one per stream
