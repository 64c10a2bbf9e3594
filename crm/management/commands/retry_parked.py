"""`manage.py retry_parked`: replay the streams projections parked, once the cause is fixed."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.models import ParkedStream
from crm.projections import operations, profile, runner


class Command(BaseCommand):
    help = (
        "Retry parked streams: every one, one projection's (--projection), or one stream "
        "(--stream). Lists what stays parked, with the reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projection", help="only this projection's parked streams")
        parser.add_argument("--stream", help="only this stream (a patient id)")
        parser.add_argument(
            "--list", action="store_true", help="list the parked streams, retry nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str | None = options["projection"]
        known = [profile.NAME, *runner.registered()]
        if name is not None and name not in known:
            raise CommandError(f"Unknown projection {name!r}. Known: {', '.join(known)}.")
        stream = _stream(options["stream"])
        rows = ParkedStream.objects.all()
        if name is not None:
            rows = rows.filter(projection=name)
        if stream is not None:
            rows = rows.filter(stream_id=stream)
        if not options["list"]:
            released = still = 0
            for projection, stream_id in list(rows.values_list("projection", "stream_id")):
                if operations.retry(projection, stream_id):
                    released += 1
                else:
                    still += 1
            self.stdout.write(f"released {released}, still parked {still}")
        for row in rows.order_by("projection", "position"):
            self.stdout.write(
                f"parked: {row.projection} {row.stream_id} at #{row.position} "
                f"({row.event_type or 'evaluation'}), {row.attempts} tries: {row.error}"
            )


def _stream(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise CommandError(f"--stream {text!r} is not a stream id (a UUID).") from None
