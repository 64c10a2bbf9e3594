"""Re-evaluate suggestions: the patients whose suggestions changed with the clock (what the
schedule runs every minute), or with --all every patient, in bulk."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from engagement import bulk
from engagement.projection import reevaluate_due


class Command(BaseCommand):
    help = "Re-evaluate the suggestions whose due times have passed (or, with --all, all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Evaluate every patient from the log, in bulk (replaces every row).",
        )
        parser.add_argument(
            "--now",
            help="Evaluate as of this moment (ISO 8601 with UTC offset) instead of the clock.",
        )
        parser.add_argument(
            "--processes", type=int, default=1, help="--all on PostgreSQL: worker processes."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = _moment(options["now"]) if options["now"] else timezone.now()
        started = time.monotonic()
        if options["all"]:
            result = bulk.evaluate_all(now=now, processes=options["processes"])
            self.stdout.write(
                f"Evaluated {result.patients} patients ({result.events} events) into "
                f"{result.suggestions} suggestions in {time.monotonic() - started:.1f} s."
            )
            return
        count = reevaluate_due(now=now)
        self.stdout.write(f"Re-evaluated {count} patients in {time.monotonic() - started:.1f} s.")


def _moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now {text!r} is not an ISO 8601 date and time.") from None
    if value.tzinfo is None:
        raise CommandError("--now must include a UTC offset, e.g. 2026-11-03T14:00:00Z.")
    return value
