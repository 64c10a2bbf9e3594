"""Smoke test of the production set-up on this machine, on loopback: gunicorn, two django-q2
clusters on Redis, the projections' follower, PostgreSQL (what it checks, how: deploy/README.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
# The desk's streams, as deploy/README.md runs them (host, port and workers from UVICORN_*).
UVICORN_ARGS = ["config.asgi:application", "--proxy-headers", "--timeout-graceful-shutdown", "5"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
T = TypeVar("T")


class SmokeFailed(Exception):
    """A step did not do what production needs; the message says which and why."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, as systemd's EnvironmentFile reads them (comments and blanks skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def loopback_only(*urls: str) -> None:
    for url in urls:
        parts = urlsplit(url)
        host = unquote(parts.hostname or "") or parse_qs(parts.query).get("host", [""])[0]
        # No host, or a directory (a Unix socket's), is this machine too.
        if host and not host.startswith("/") and host not in LOOPBACK:
            raise SmokeFailed(f"{url} is not on this machine: the smoke test uses loopback only.")


def wait_for(what: str, probe: Callable[[], T | None], seconds: float) -> T:
    """Call `probe` until it returns something, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise SmokeFailed(f"Gave up after {seconds:.0f} s waiting for {what}.")
        time.sleep(0.3)


class Stack:
    """The processes and the database this run started, and the way to stop them."""

    def __init__(self, env: dict[str, str], workdir: Path, admin_url: str) -> None:
        self.env = env
        self.workdir = workdir
        self.admin_url = admin_url
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run a management command; its stdout, or SmokeFailed with its stderr."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise SmokeFailed(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def start(self, name: str, command: list[str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        # A session of its own: stopping the group stops the processes it forked too.
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise SmokeFailed(f"{name} exited with {process.returncode}:\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """TERM every process group, KILL what is left after 15 s."""
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    # Spelled out: urlunsplit would drop the `//` of a URL with no host (a Unix socket's).
    admin = f"{parts.scheme}://{parts.netloc}/postgres" + (f"?{parts.query}" if parts.query else "")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def forget_queue(redis_url: str, cluster: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    keys = list(client.scan_iter(f"django_q:{cluster}:*"))
    if keys:
        client.delete(*keys)


class Api:
    """HTTP through the proxy's eyes: every request says it arrived over HTTPS."""

    def __init__(self, base: str, token: str = "") -> None:
        self.base = base
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, method=method)
        request.add_header("X-Forwarded-Proto", "https")
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        if body is not None:
            request.data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
            request.add_header("Idempotency-Key", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=15) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, _, content = self.call(method, path, body)
        if status != expect:
            raise SmokeFailed(f"{method} {path} answered {status}, not {expect}: {content[:500]!r}")
        return json.loads(content)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer to check, not to follow


def check_https_settings(api: Api) -> None:
    """Plain HTTP is sent to HTTPS; over the proxy's HTTPS, HSTS and the CSP are there."""
    proxied = Api(api.base)
    request = urllib.request.Request(api.base + "/admin/login/")
    try:
        urllib.request.build_opener(_NoRedirect).open(request, timeout=15)
        raise SmokeFailed("Plain HTTP was served instead of redirected to HTTPS.")
    except urllib.error.HTTPError as error:
        if error.code != 301 or not error.headers["Location"].startswith("https://"):
            raise SmokeFailed(f"Plain HTTP answered {error.code}, not a 301 to https.") from None
    status, headers, _ = proxied.call("GET", "/admin/login/")
    if status != 200 or "max-age" not in headers.get("Strict-Transport-Security", ""):
        raise SmokeFailed(f"The sign-in page over HTTPS answered {status} without HSTS.")
    if "script-src 'self'" not in headers.get("Content-Security-Policy", ""):
        raise SmokeFailed("The sign-in page has no Content-Security-Policy header.")


def check_static_files(api: Api) -> None:
    """The page links a hashed file; WhiteNoise serves it compressed and cached for good."""
    _, _, page = api.call("GET", "/admin/login/")
    found = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page)
    if found is None:
        raise SmokeFailed("The sign-in page links no hashed stylesheet: collectstatic's manifest?")
    status, headers, content = api.call(
        "GET", found.group(1).decode(), headers={"Accept-Encoding": "gzip"}
    )
    if status != 200 or not content:
        raise SmokeFailed(f"{found.group(1)!r} answered {status}.")
    if "immutable" not in headers.get("Cache-Control", ""):
        raise SmokeFailed(f"Static files are not WhiteNoise's (Cache-Control {headers!r}).")
    if headers.get("Content-Encoding") != "gzip":
        raise SmokeFailed("WhiteNoise did not serve the compressed copy collectstatic made.")


def book_a_visit(api: Api) -> str:
    """A patient who agreed to texts, with a visit four days from now; their id."""
    patient = api.json(
        "POST",
        "/api/v1/patients/",
        {
            "first_name": "Rowan",
            "last_name": "Smoketest",
            "date_of_birth": "1984-05-17",
            "phone": "(617) 555-0134",
        },
        expect=201,
    )
    patient_id = str(patient["patient_id"])
    api.json(
        "POST",
        f"/api/v1/patients/{patient_id}/consents/",
        {"channel": "sms", "purpose": "appointment_reminders", "granted": True, "source": "verbal"},
    )
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(days=4)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    api.json(
        "POST",
        f"/api/v1/patients/{patient_id}/appointments/",
        {
            "appointment_type": "follow_up",
            "starts_at": starts.isoformat(),
            "provider": "Dr. Lee",
            "location": "Main St clinic",
        },
        expect=201,
    )
    return patient_id


def reminders_made_by_a_worker(stack: Stack, api: Api, patient_id: str, redis_url: str) -> int:
    """Queue the catch-up job on Redis; a worker runs it and the reminders appear."""
    import psycopg
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    cluster = stack.env["Q_CLUSTER_NAME"]
    wait_for(
        "both django-q2 clusters to report to Redis",
        lambda: True if len(list(client.scan_iter(f"django_q:{cluster}:cluster:*"))) >= 2 else None,
        45,
    )
    path = f"/api/v1/patients/{patient_id}/reminders/"
    if api.json("GET", path)["results"]:
        raise SmokeFailed("Reminders existed before any worker ran: the test proves nothing.")
    task_id = stack.manage(
        "shell",
        "--verbosity=0",  # Django 5.2 would first list what it imported, on stdout
        "-c",
        "from django_q.tasks import async_task; "
        "print(async_task('crm.tasks.run_catch_up_projections', task_name='smoke'))",
    ).strip()

    def outcome() -> bool | None:
        stack.check_alive()
        with psycopg.connect(stack.admin_url, connect_timeout=5) as conn:
            row = conn.execute("SELECT success FROM django_q_task WHERE id = %s", [task_id])
            found = row.fetchone()
        return None if found is None else bool(found[0])

    if not wait_for("a worker to run the queued job", outcome, 60):
        raise SmokeFailed(f"The queued job {task_id} failed in the worker.")
    rows = api.json("GET", path)["results"]
    if not rows:
        raise SmokeFailed("The job ran but the API shows no reminder for the booking.")
    return len(rows)


def call_back_queued_by_the_follower(stack: Stack, api: Api, patient_id: str) -> float:
    """Start `run_projections --follow`, log a missed call through the API and time its
    call-back suggestion: seconds from the API's answer until the API lists it."""
    stack.start("follower", [sys.executable, "manage.py", "run_projections", "--follow"])

    def listening() -> bool | None:
        stack.check_alive()
        return True if "Caught up" in stack.log("follower") else None

    wait_for("the follower to catch up and listen", listening, 45)
    path = f"/api/v1/patients/{patient_id}/suggestions/"
    committed = log_missed_call(api, patient_id)

    def call_back() -> bool | None:
        stack.check_alive()
        rows = api.json("GET", path)["suggestions"]
        return True if any(row["kind"] == "callback" for row in rows) else None

    # No worker is scheduled to run the catch-up job: only the follower can queue it.
    wait_for("the missed call's call-back in the queue", call_back, 5)
    return time.monotonic() - committed


def log_missed_call(api: Api, patient_id: str) -> float:
    """Log a missed inbound call through the API; when the API answered (time.monotonic)."""
    api.json(
        "POST",
        f"/api/v1/patients/{patient_id}/calls/",
        {
            "direction": "inbound",
            "started_at": dt.datetime.now(dt.UTC).isoformat(),
            "duration_seconds": 0,
            "disposition": "missed",
        },
        expect=201,
    )
    return time.monotonic()


def queue_change_pushed_to_a_desk(stack: Stack, api: Api, patient_id: str, port: int) -> float:
    """Open the desk's event stream on uvicorn, log a second missed call through gunicorn,
    and time the queue_changed the follower's projection publishes until the stream has
    it: seconds from the API's answer."""
    import http.client

    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    stream.request(
        "GET",
        "/api/v1/desk/stream",
        headers={
            "Authorization": f"Token {api.token}",
            "Accept": "text/event-stream",
            "X-Forwarded-Proto": "https",
        },
    )
    answer = stream.getresponse()
    if answer.status != 200 or answer.getheader("Content-Type") != "text/event-stream":
        raise SmokeFailed(f"The desk stream answered {answer.status}: {answer.read(500)!r}")
    if answer.readline() != b"retry: 2000\n":
        raise SmokeFailed("The desk stream did not start with its retry delay.")
    committed = log_missed_call(api, patient_id)
    try:
        while time.monotonic() - committed < 5:
            stack.check_alive()
            line = answer.readline()
            if line.startswith(b"event: queue_changed"):
                data = answer.readline()
                if b"callback." in data:
                    return time.monotonic() - committed
    except TimeoutError:
        pass
    finally:
        stream.close()
    raise SmokeFailed("No queue_changed naming the call-back reached the desk stream in 5 s.")


@contextmanager
def running(stack: Stack, database_url: str, redis_url: str) -> Iterator[Stack]:
    try:
        yield stack
    finally:
        stack.stop()
        with suppress(Exception):
            forget_queue(redis_url, stack.env["Q_CLUSTER_NAME"])
        with suppress(Exception):
            recreate_database(database_url, drop_only=True)


def environment(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(read_env_file(ROOT / "deploy" / "env.example"))
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        CACHE_URL=args.redis_url,
        Q_CLUSTER_NAME=f"smoke-{os.getpid()}",
        Q_WORKERS="1",
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{args.port}",
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        UVICORN_PORT=str(args.stream_port),
        WEB_CONCURRENCY="2",
        STATIC_ROOT=str(workdir / "static"),
        SMS_BACKEND="console",  # on purpose: nothing leaves this machine
        SMS_CONSOLE_LOG=str(workdir / "sms.jsonl"),
        LOG_LEVEL="WARNING",
    )
    return env


def scenario(stack: Stack, args: argparse.Namespace) -> None:
    step = Step()
    with step("check --deploy"):
        stack.manage("check", "--deploy", "--fail-level", "WARNING")
    with step("migrate and collectstatic"):
        stack.manage("migrate", "--noinput", timeout=300)
        stack.manage("collectstatic", "--noinput")
    with step("a supervisor and an API key"):
        stack.manage("create_staff", "smoke.supervisor", "--role", "supervisor", "--service")
        token = stack.manage("create_api_token", "smoke.supervisor").strip()
    base = f"http://127.0.0.1:{args.port}"
    api = Api(base, token)
    with step("gunicorn, uvicorn for the desk's streams, and two django-q2 clusters"):
        stack.start("gunicorn", [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"])
        stack.start("uvicorn", [sys.executable, "-m", "uvicorn", *UVICORN_ARGS])
        for name in ("worker-1", "worker-2"):
            stack.start(name, [sys.executable, "manage.py", "qcluster"])
        wait_for("gunicorn to answer", lambda: _answers(stack, api), 45)
    with step("HTTPS redirect, HSTS and CSP behind the proxy"):
        check_https_settings(api)
    with step("static files served by WhiteNoise"):
        check_static_files(api)
    with step("register, consent and book through the API"):
        patient_id = book_a_visit(api)
    with step("a worker on Redis makes the reminders"):
        count = reminders_made_by_a_worker(stack, api, patient_id, args.redis_url)
        print(f"   {count} reminder(s) for the booking, readable through the API")
    with step("the projections' follower queues a missed call's call-back within seconds"):
        seconds = call_back_queued_by_the_follower(stack, api, patient_id)
        print(f"   the call-back was readable through the API {seconds:.2f} s after the call")
    with step("the desk's stream on uvicorn receives the queue's change"):
        seconds = queue_change_pushed_to_a_desk(stack, api, patient_id, args.stream_port)
        print(f"   queue_changed reached the open stream {seconds:.2f} s after the call")


def _answers(stack: Stack, api: Api) -> bool | None:
    stack.check_alive()
    try:
        status, _, _ = api.call("GET", "/healthz")
    except OSError:
        return None
    return True if status == 200 else None


class Step:
    """Prints each step with its time, so a slow or failing one is plain to see."""

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        print(f"-- {name}", flush=True)
        yield
        print(f"   ok ({time.monotonic() - started:.1f} s)", flush=True)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"stopped by signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/crm_smoke")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stream-port", type=int, default=8766, help="uvicorn's (the streams)")
    args = parser.parse_args()
    # A TERM (CI giving up) unwinds like Ctrl-C, through the clean-up.
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="crm-smoke-") as tmp:
        workdir = Path(tmp)
        stack = Stack(environment(args, workdir), workdir, args.database_url)
        try:
            loopback_only(args.database_url, args.redis_url)
            recreate_database(args.database_url)
            with running(stack, args.database_url, args.redis_url):
                scenario(stack, args)
        except (SmokeFailed, subprocess.TimeoutExpired, KeyboardInterrupt) as failure:
            print(f"SMOKE FAILED: {failure}", file=sys.stderr)
            for name in stack.processes:
                print(f"--- {name} log (tail)\n{stack.log(name)}", file=sys.stderr)
            return 1
    print(f"Smoke test passed in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
