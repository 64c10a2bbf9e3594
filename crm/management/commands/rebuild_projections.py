"""`manage.py rebuild_projections [name ...]`: drop read models and replay them from the log."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from crm import eventstore
from crm.models import Event
from crm.projections import profile, runner


class Command(BaseCommand):
    help = (
        "Rebuild read models from the event log. With no names, rebuilds every projection: "
        "'profile' (inline) and each catch-up projection."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="projections to rebuild (default: all)")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        available = [profile.NAME, *runner.registered()]
        names: list[str] = options["names"] or available
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise CommandError(
                f"Unknown projection(s): {', '.join(unknown)}. Known: {', '.join(available)}."
            )
        total = Event.objects.count()
        for name in names:
            with tqdm(
                total=total,
                desc=name,
                unit="ev",
                unit_scale=True,
                disable=options["no_progress"],
                file=sys.stderr,
            ) as bar:
                if name == profile.NAME:
                    count = profile.rebuild(progress=bar.update)
                else:
                    count = runner.rebuild(runner.registered()[name], progress=bar.update)
            self.stdout.write(f"{name}: replayed {count} events")
        self.stdout.write(f"log ends at position {eventstore.last_position()}")
