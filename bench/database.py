"""The benchmark databases: where they are, creating and migrating them, Django per process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from config.database import url_naming

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"
# Only for the benchmark processes, which serve no request; settings refuse a short key.
_BENCH_SECRET = "bench-only-secret-key-never-used-to-sign-anything-0123456789"


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def database_name(url: str) -> str:
    name = unquote(urlsplit(url).path.lstrip("/"))
    if not name:
        raise SystemExit(f"BENCH_DATABASE_URL {url!r} names no database.")
    return name


def sibling_url(url: str, name: str) -> str:
    """The same server and credentials as `url`, another database."""
    return url_naming(url, name)


def conninfo(url: str) -> str:
    """A libpq connection string for psycopg (it accepts URLs, not the postgres:// alias)."""
    return make_conninfo(url.replace("postgres://", "postgresql://", 1))


def ensure_database(url: str) -> bool:
    """Create the database `url` names if it is missing; True when it was created."""
    name = database_name(url)
    admin = make_conninfo(conninfo(url), dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    name = database_name(url)
    admin = make_conninfo(conninfo(url), dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def django_env(url: str) -> dict[str, str]:
    """The environment a benchmark process runs Django with: production settings, no DEBUG.

    DEBUG stays off on purpose: with it on, Django keeps every query it runs in memory,
    which would both slow the commands down and make the rebuild's memory grow.
    """
    env = dict(os.environ)
    env["DATABASE_URL"] = url
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["DEBUG"] = "0"
    env.setdefault("LOG_LEVEL", "WARNING")
    # Production settings otherwise: texts must name a backend, and the benchmark speaks
    # plain HTTP to gunicorn on loopback, with no TLS proxy in front.
    env.setdefault("SMS_BACKEND", "console")
    env.setdefault("SECURE_SSL_REDIRECT", "0")
    # Server-side prepared statements for the statements psycopg runs 5 times or more, as a
    # deployment talking to PostgreSQL directly would set it (README); set it empty to
    # measure without.
    env.setdefault("DATABASE_PREPARE_THRESHOLD", "5")
    if len(env.get("SECRET_KEY", "")) < 32:
        env["SECRET_KEY"] = _BENCH_SECRET
    return env


def tuning() -> str:
    """The settings benchmark processes run with that change the figures, for the reports."""
    env = django_env("")
    return ", ".join(
        f"{name}={env.get(name) or unset}"
        for name, unset in (
            ("DATABASE_PREPARE_THRESHOLD", "off"),
            ("COMMAND_STATE_CACHE_SIZE", "the default"),
        )
    )


def migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=PROJECT_DIR,
        env=django_env(url),
        check=True,
    )


def prepare(url: str) -> None:
    """Make sure the database exists and carries the current schema."""
    ensure_database(url)
    migrate(url)


def setup_django(url: str) -> None:
    """Configure this process for `url` and set Django up; call once, before any model import."""
    os.environ.update(django_env(url))
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
