"""A worker or a benchmark's sibling database is reached exactly as DATABASE_URL says."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.database import database_from_url, url_naming

_KEPT = ("ENGINE", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


@pytest.mark.parametrize(
    "url",
    [
        # A password with the characters a URL must escape.
        "postgres://crm:p%40ss%3Aw%2Frd%3F%23@db.internal:6432/crm",
        # A Unix socket directory as the host, escaped, and given as an option.
        "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/crm",
        "postgres:///crm?host=/var/run/postgresql",
        # Options as query parameters.
        "postgresql://crm:secret@127.0.0.1:5432/crm?sslmode=require&connect_timeout=5",
    ],
)
def test_another_database_on_the_same_server_keeps_password_host_and_options(url):
    configured = database_from_url(url, default_sqlite=Path("unused.sqlite3"))
    renamed = database_from_url(url_naming(url, "test_crm"), default_sqlite=Path("unused.sqlite3"))

    assert renamed["NAME"] == "test_crm"
    assert {key: renamed.get(key) for key in _KEPT} == {key: configured.get(key) for key in _KEPT}


def test_the_password_and_the_socket_directory_arrive_as_written():
    password = database_from_url(
        url_naming("postgres://crm:p%40ss%3Aw%2Frd@127.0.0.1:5432/crm", "test_crm"),
        default_sqlite=Path("unused.sqlite3"),
    )
    socket = database_from_url(
        url_naming("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/crm", "test_crm"),
        default_sqlite=Path("unused.sqlite3"),
    )

    assert password["PASSWORD"] == "p@ss:w/rd"
    assert socket["HOST"] == "/var/run/postgresql"
