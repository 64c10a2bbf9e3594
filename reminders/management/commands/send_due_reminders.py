"""Send due reminders and queued replies: one dispatcher pass, or a loop (`--loop`), for cron
and for the worker process the I9 test kills; qcluster runs the same pass every minute."""

from __future__ import annotations

import dataclasses
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reminders.dispatch import dispatch_due


class Command(BaseCommand):
    help = "Hand due reminders and queued replies to the SMS provider (exactly once each)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep going until stopped")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="seconds between passes with --loop"
        )
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True  # finish the batch in hand, then leave

        signal.signal(signal.SIGTERM, stop)
        while True:
            report = dispatch_due(batch_size=options["batch_size"])
            done = {k: v for k, v in dataclasses.asdict(report).items() if v}
            if done or not options["loop"]:
                self.stdout.write(
                    ", ".join(f"{k} {v}" for k, v in done.items()) or "nothing due", ending="\n"
                )
                self.stdout.flush()
            if not options["loop"] or stopping:
                return
            time.sleep(options["interval"])
            if stopping:
                return
