"""Shared fixtures: a clinic clock, an actor, and patients made through the handlers."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator

import pytest
from django.db import connection

from crm import handlers
from crm.handlers import Actor

# What gives a test the database; a test without any of these cannot reach it (pytest-django
# blocks it), so `-m "not database"` (`make test-fast`) runs in seconds and fails loudly if
# one of its tests reaches for the database after all.
_DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        "live_server",
    }
)


def _needs_database(item: pytest.Item) -> bool:
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    return (
        item.get_closest_marker("django_db") is not None
        or not _DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        or (cls is not None and issubclass(cls, TransactionTestCase))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)
        if _needs_database(item):
            item.add_marker(pytest.mark.database)


@pytest.fixture(scope="session", autouse=True)
def _postgres_must_answer(request: pytest.FixtureRequest) -> None:
    """With REQUIRE_POSTGRES=1 the run fails, never skips, when PostgreSQL is not in use."""
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        request.getfixturevalue("django_db_setup")
        with request.getfixturevalue("django_db_blocker").unblock():
            assert connection.vendor == "postgresql", "REQUIRE_POSTGRES=1 but not on PostgreSQL"
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")


@pytest.fixture
def now() -> dt.datetime:
    """The clinic's 'now' for a test: a fixed Tuesday morning, so rules are replayable."""
    return dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def actor() -> Actor:
    return Actor(name="frontdesk.one", channel="admin", user_id=None, role="front_desk")


@pytest.fixture
def register(actor: Actor, now: dt.datetime):  # type: ignore[no-untyped-def]
    """Register a synthetic patient through the real handler; returns the patient id."""

    def make(**overrides):  # type: ignore[no-untyped-def]
        values = {
            "first_name": "Rowan",
            "last_name": "Testpatient",
            "date_of_birth": dt.date(1984, 5, 17),
            "phone": "(617) 555-0134",
            "actor": actor,
            "now": now,
            "occurred_at": now - dt.timedelta(days=400),
        }
        values.update(overrides)
        return handlers.patient_register(**values).patient_id

    return make


@pytest.fixture
def _empty_append_only_tables(transactional_db: None) -> Iterator[None]:
    """For tests that commit: let the end-of-test flush empty the log on SQLite.

    The database refuses DELETE on the event log and the access audit (I1). PostgreSQL's
    flush uses TRUNCATE, which row triggers do not see; SQLite's flush deletes rows. So on
    SQLite the guards are lifted here, before the flush, and put back by the flush itself
    once it has run: a row a live server's thread writes after the test is flushed with
    the rest instead of refusing the flush.
    """
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
    ops = connection.ops
    flush = ops.execute_sql_flush

    def flush_then_guard(sql_list: Iterable[str]) -> None:
        try:
            flush(sql_list)
        finally:
            del ops.execute_sql_flush  # the class's own again
            with connection.cursor() as cursor:
                for _, sql in triggers:
                    cursor.execute(sql)

    ops.execute_sql_flush = flush_then_guard  # type: ignore[method-assign]
