"""The follower `run_projections --follow` runs: catch-up projections brought up to date from
their checkpoints as soon as a wake-up says events were committed, and every `interval` anyway."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import connection

from crm.projections import runner, wakeup

logger = logging.getLogger(__name__)

# How often a waiting follower looks at its stop flag (and, on PostgreSQL, at whether its
# listening connection is still alive when nothing woke it).
STOP_CHECK_SECONDS = 1.0
# The least time from one round's start to the next one's. A wake-up after a quiet spell
# starts a round at once; under a stream of commits, those of the gap are taken in one round
# instead of a round each, each with its fixed cost (a transaction, the checkpoint, each
# projection's look-ups). Under load it is the batches' size, not the gap, that sets the
# lag (docs/benchmarks.md, "Lag").
ROUND_GAP_SECONDS = 0.2


@dataclass
class Follower:
    """Follows `projections` (every registered one when empty) until `stop` is set.

    A wake-up is only a hint: each round re-reads the log from every checkpoint, so a lost
    notification costs at most `interval` seconds, and a storm of them costs one round.
    A round that fails (the database went away) is logged by the runner and tried again
    after `interval`, on a fresh connection. Rounds start at least `gap` seconds apart.
    """

    interval: float
    projections: Sequence[runner.CatchUpProjection] = ()
    wake: Callable[[], wakeup.Wakeup] = wakeup.for_this_database
    stop: threading.Event = field(default_factory=threading.Event)
    on_round: Callable[[dict[str, int]], object] | None = None
    gap: float = ROUND_GAP_SECONDS

    def run(self) -> None:
        watch = self.wake()
        try:
            watch.start()
            while not self.stop.is_set():
                started = time.monotonic()
                self.round()
                self._wait(watch)
                # Woken within the gap: the commits of the rest of it join this round.
                self.stop.wait(max(0.0, started + self.gap - time.monotonic()))
        finally:
            watch.close()
            connection.close()

    def round(self) -> dict[str, int]:
        """Catch every projection up; what each handled (a failed one is left out)."""
        try:
            handled = runner.catch_up_all(self.projections or None)
        except runner.ProjectionsFailed as failed:
            handled = failed.handled
            # A connection the server dropped stays broken until closed; the next round
            # opens a new one.
            connection.close_if_unusable_or_obsolete()
        if self.on_round is not None:
            self.on_round(handled)
        return handled

    def _wait(self, watch: wakeup.Wakeup) -> None:
        """Until a wake-up, `interval` seconds, or `stop`, whichever comes first."""
        deadline = time.monotonic() + self.interval
        while not self.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or watch.wait(min(left, STOP_CHECK_SECONDS)):
                return


def follow_in_threads(
    *,
    interval: float,
    stop: threading.Event,
    wake: Callable[[], wakeup.Wakeup] = wakeup.for_this_database,
    on_round: Callable[[dict[str, int]], object] | None = None,
    projections: Sequence[runner.CatchUpProjection] = (),
    gap: float = ROUND_GAP_SECONDS,
) -> None:
    """One follower per projection (of `projections`, or every registered one), each in
    its own thread with its own wake-up and its own connection: a slow projection (the
    suggestions' rules under a burst) no longer holds back the others' rounds, nor they
    its own. Returns once `stop` is set and all ended."""
    ended: list[str] = []

    def follow(projection: runner.CatchUpProjection) -> None:
        try:
            Follower(
                interval=interval,
                projections=[projection],
                wake=wake,
                stop=stop,
                on_round=on_round,
                gap=gap,
            ).run()
        finally:
            ended.append(projection.name)

    threads = [
        threading.Thread(target=follow, args=(p,), name=f"follow-{p.name}", daemon=True)
        for p in projections or runner.registered().values()
    ]
    for thread in threads:
        thread.start()
    try:
        while not stop.wait(0.5):
            if ended:  # a follower died of something no round catches: stop them all
                raise RuntimeError(f"the follower of {', '.join(ended)} stopped")
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def follow_in_processes(
    names: Sequence[str], *, options: Sequence[str], stop: threading.Event, announce: str
) -> int:
    """One `run_projections --follow --projection NAME` child process per projection, so
    each gets a CPU share of its own on a busy machine (threads share one interpreter).
    Says `announce` once every child has caught up; stops them all on `stop`, or when one
    of them exits (its exit status is returned, for the service manager to restart)."""
    children: dict[str, subprocess.Popen[str]] = {}
    ready: set[str] = set()
    lock = threading.Lock()

    def forward(name: str, out: IO[str]) -> None:
        for line in out:
            if line.startswith("Caught up"):
                with lock:
                    ready.add(name)
                    if ready == set(children):
                        print(announce, flush=True)
            else:
                print(line, end="", flush=True)

    command = [sys.executable, "-m", "django", "run_projections", "--follow"]
    for name in names:
        children[name] = subprocess.Popen(
            [*command, "--projection", name, *options],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
    readers = [
        threading.Thread(target=forward, args=(name, child.stdout), daemon=True)
        for name, child in children.items()
    ]
    for reader in readers:
        reader.start()
    status = 0
    try:
        while not stop.wait(0.5):
            ended = [c for c in children.values() if c.poll() is not None]
            if ended:
                status = ended[0].returncode or 1
                logger.error("a follower process ended (%s); stopping the others", status)
                break
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            child.wait()
        for reader in readers:
            reader.join(timeout=5)
    return status
