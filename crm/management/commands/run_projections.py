"""`manage.py run_projections [--follow]`: bring every catch-up projection up to date."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.projections import runner


class Command(BaseCommand):
    help = "Run the catch-up projections until they have seen every event (or keep following)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--follow", action="store_true", help="keep running, polling the log for new events"
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="seconds between polls when idle"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            try:
                handled = runner.catch_up_all()
            except runner.ProjectionsFailed as failed:
                if not options["follow"]:
                    raise CommandError(str(failed)) from None
                # Logged with the cause; the database may be back by the next poll.
                handled = failed.handled
                time.sleep(options["interval"])
            if not options["follow"]:
                for name, count in handled.items():
                    self.stdout.write(f"{name}: {count} events")
                return
            if not any(handled.values()):
                time.sleep(options["interval"])
