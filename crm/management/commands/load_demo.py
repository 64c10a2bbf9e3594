"""`manage.py load_demo`: years of synthetic clinic history through the command handlers
(`fixtures.demo`), and one demo login per role."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from crm.models import Event, PatientProfile
from crm.models.contact_reasons import seed_contact_reasons
from crm.projections import runner
from fixtures import demo
from fixtures.staff import ensure_demo_staff


class Command(BaseCommand):
    # Every event goes through the command handlers, so the demo data is exactly what the
    # clinic would have recorded, and a rebuild of the read models gives the same profiles.
    help = (
        "Load reproducible synthetic patients with about three years of history (visits, "
        "calls, consents, crisis contacts...) through the command handlers, and create the "
        "demo logins frontdesk, agent, clinician and supervisor (password demo-<name>-pass). "
        "Only with DEBUG on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients", type=int, default=200, help="how many patients (default 200)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"same seed, same patients and ids (default {demo.DEFAULT_SEED})",
        )
        parser.add_argument(
            "--now",
            type=_aware_datetime,
            default=None,
            help="the moment the histories lead up to, ISO 8601 with an offset "
            "(default: this minute); with --seed it makes the whole load reproducible",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when any patient already exists (for `make run`)",
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        patients: int = options["patients"]
        seed: int = options["seed"]
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        if options["if_empty"] and PatientProfile.objects.exists():
            self.stdout.write("Patients already exist; demo data not loaded.")
            return
        if not settings.DEBUG:
            # The demo logins have published passwords: never on a production database.
            raise CommandError("load_demo only runs with DEBUG=1 (it creates demo logins).")
        if PatientProfile.objects.filter(
            patient_id__in=demo.patient_ids(patients=patients, seed=seed)
        ).exists():
            raise CommandError(
                f"Demo patients of seed {seed} are already loaded; use another --seed, "
                "or --if-empty to skip loading."
            )
        now: dt.datetime = options["now"] or timezone.now().replace(second=0, microsecond=0)

        for login in ensure_demo_staff():
            password = login.password if login.created else "existing user, password unchanged"
            self.stdout.write(f"login {login.username} ({login.group}): {password}")
        seed_contact_reasons()  # the demo's calls use them; migration 0009 seeds a new database

        started = time.monotonic()
        events_before = Event.objects.count()
        steps = demo.plan(now=now, patients=patients, seed=seed)
        with (
            _fast_commits(),
            tqdm(
                total=len(steps),
                desc=f"{patients} patients",
                unit="cmd",
                disable=options["no_progress"],
                file=_Unterminated(self.stderr),
            ) as bar,
        ):
            events = demo.load(steps, now=now, progress=bar.update)
        elapsed = time.monotonic() - started

        profiles = PatientProfile.objects
        self.stdout.write(
            f"Loaded {patients} patients (seed {seed}, history up to {now.isoformat()}): "
            f"{events} events from {len(steps)} commands in {elapsed:.1f}s."
        )
        self.stdout.write(
            f"Now {profiles.count()} patients and {events_before + events} events; "
            f"{profiles.filter(next_appointment_at__gt=now).count()} with an upcoming visit, "
            f"{profiles.filter(crisis_flag=True).count()} with an open crisis flag, "
            f"{profiles.filter(deceased=True).count()} deceased."
        )
        # The queue, the reminder schedule and the dashboard are there on first sight,
        # not a minute later when the worker's first pass runs.
        started = time.monotonic()
        handled = runner.catch_up_all()
        self.stdout.write(
            "Read models caught up in "
            f"{time.monotonic() - started:.1f}s: "
            + ", ".join(f"{name} {count} events" for name, count in sorted(handled.items()))
            + "."
        )


class _Unterminated:
    """A command's stderr for tqdm: redraws must not end with a newline, nor show as errors."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self.out.flush()


def _aware_datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} needs a UTC offset, e.g. 2026-11-03T09:00-05:00"
        )
    return moment


@contextmanager
def _fast_commits() -> Iterator[None]:
    """On PostgreSQL, don't wait for each of the thousands of commits to reach the disk.

    A crash could lose the last few demo commands, never corrupt anything; the setting is
    this session's only and is put back afterwards.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")
