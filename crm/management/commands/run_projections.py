"""`manage.py run_projections [--follow]`: bring every catch-up projection up to date, or keep
following the log, woken by each commit (crm.projections.follower)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.eventstore.postgres import EVENTS_CHANNEL
from crm.projections import follower, runner, wakeup


class Command(BaseCommand):
    help = (
        "Run the catch-up projections until they have seen every event, or with --follow keep "
        "following the log: woken by each commit (LISTEN/NOTIFY on PostgreSQL, a poll of the "
        "log's last position on SQLite) and every --interval seconds anyway."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--follow", action="store_true", help="keep running, catching up as events commit"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="seconds between catch-ups when nothing wakes the follower (the fallback "
            "for a lost notification; default 5)",
        )
        parser.add_argument(
            "--gap",
            type=float,
            default=follower.ROUND_GAP_SECONDS,
            help="least seconds from one catch-up's start to the next: the commits of a busy "
            f"spell are taken together (default {follower.ROUND_GAP_SECONDS:g}; 0: a round "
            "per wake-up)",
        )
        parser.add_argument(
            "--no-wakeup",
            action="store_true",
            help="poll every --interval seconds only, never woken by commits",
        )
        parser.add_argument(
            "--parallel",
            action="store_true",
            help="follow each projection in a thread of its own, each with its own wake-up",
        )
        parser.add_argument(
            "--processes",
            action="store_true",
            help="follow each projection in a child process of its own (a CPU share each)",
        )
        parser.add_argument(
            "--projection",
            action="append",
            default=[],
            metavar="NAME",
            help="only this projection (repeat for more): a follower process per projection "
            "gives each its own CPU share",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        if not 0 <= options["gap"] < options["interval"]:
            raise CommandError("--gap must be 0 or more seconds, and less than --interval")
        chosen = _chosen(options["projection"])
        if not options["follow"]:
            try:
                handled = runner.catch_up_all(chosen)
            except runner.ProjectionsFailed as failed:
                raise CommandError(str(failed)) from None
            for name, count in handled.items():
                self.stdout.write(f"{name}: {count} events")
            return
        self._follow(options, chosen)

    def _follow(self, options: dict[str, Any], chosen: list[runner.CatchUpProjection]) -> None:
        stop = threading.Event()
        # TERM (a service manager, `make run` ending) and Ctrl-C end the current batch's
        # wait cleanly; a batch cut short by a kill is rolled back and replayed (I6).
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        wake = wakeup.Deaf if options["no_wakeup"] else wakeup.for_this_database
        how = "polling only" if options["no_wakeup"] else _woken_by()
        line = (
            f"Caught up; following the log ({how}; every {options['interval']:g} s anyway): "
            f"{', '.join(p.name for p in chosen)}."
        )
        if options["processes"]:
            passed = ["--interval", f"{options['interval']}", "--gap", f"{options['gap']}"]
            passed += ["--no-wakeup"] if options["no_wakeup"] else []
            status = follower.follow_in_processes(
                [p.name for p in chosen], options=passed, stop=stop, announce=line
            )
            if status:
                raise CommandError(f"a follower process ended with status {status}")
            return
        announce = self._announcer(line, len(chosen))
        if options["parallel"]:
            follower.follow_in_threads(
                interval=options["interval"],
                stop=stop,
                wake=wake,
                on_round=announce,
                projections=chosen,
                gap=options["gap"],
            )
        else:
            follower.Follower(
                interval=options["interval"],
                projections=chosen,
                wake=wake,
                stop=stop,
                on_round=announce,
                gap=options["gap"],
            ).run()

    def _announcer(self, line: str, count: int) -> Callable[[dict[str, int]], None]:
        """Says `line` once every projection has had its first round (it is then watching
        for commits, so whoever waits for the line may start appending)."""
        seen: set[str] = set()
        lock = threading.Lock()

        def first_rounds(handled: dict[str, int]) -> None:
            with lock:
                if len(seen) == count:
                    return
                seen.update(handled)
                if len(seen) == count:
                    self.stdout.write(line)
                    self.stdout.flush()

        return first_rounds


def _woken_by() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"woken by NOTIFY {EVENTS_CHANNEL}"
    return f"woken by the log's last position, read every {wakeup.SQLITE_POLL_SECONDS:g} s"


def _chosen(names: list[str]) -> list[runner.CatchUpProjection]:
    known = runner.registered()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise CommandError(
            f"No catch-up projection named {unknown[0]!r}; the projections: {', '.join(known)}."
        )
    return [known[name] for name in dict.fromkeys(names)] if names else list(known.values())
