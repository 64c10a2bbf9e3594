"""DATABASE_URL parsing, with the embedded SQLite file tuned for a web server and a worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SQLITE_INIT = (
    # WAL lets the web server read while the worker writes; NORMAL is durable in WAL mode
    # across application crashes; the busy timeout waits for a writer instead of failing.
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA busy_timeout=20000;"
    "PRAGMA foreign_keys=ON;"
)


def database_from_url(url: str | None, *, default_sqlite: Path) -> dict[str, Any]:
    if not url:
        url = f"sqlite:///{default_sqlite}"
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"DATABASE_URL is malformed ({exc}); expected sqlite:///path/to/file.sqlite3 "
            "or postgres://user:password@host:5432/name."
        ) from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        if not config.get("NAME"):
            raise ImproperlyConfigured("DATABASE_URL names no SQLite file.")
        if config["NAME"] != ":memory:":
            # A fresh checkout has no var/ yet; SQLite creates the file but not its folder.
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # Writers take the lock at BEGIN, so two writers queue on the busy timeout
            # instead of one failing with "database is locked" on lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": SQLITE_INIT,
        }
    elif engine == "django.db.backends.postgresql":
        if not config.get("NAME"):
            raise ImproperlyConfigured("DATABASE_URL names no PostgreSQL database.")
        config.setdefault("OPTIONS", {})
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL uses an unsupported engine ({engine or 'unknown'}); "
            "use sqlite:/// or postgres://."
        )
    return config


def url_naming(url: str, name: str) -> str:
    """`url` with database `name` in place of its own, the rest as written: user, password,
    host (a socket directory too, escaped or as `?host=`), port and options. A process started
    on it (a test's worker, a benchmark's sibling database) connects exactly as `url` does."""
    # Spelled out rather than urlunsplit, which drops the `//` of a URL with no host
    # (`postgres:///crm?host=/run/postgresql`) unless something registered the scheme.
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{quote(name, safe='')}{query}"
