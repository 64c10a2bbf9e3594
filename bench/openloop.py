"""An open-loop load generator in the style of wrk2: requests leave at fixed intended times
whatever the server does, and latency counts from the intended time (no coordinated omission)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

# A send that leaves this long after its intended time was held up by the generator itself
# (its own CPU or event loop), not by the server: reported so a starved generator shows.
LATE_MS = 2.0
_HIGHEST_US = 3_600_000_000  # an hour: beyond any timeout
# Open connections at most. At 200/s with answers in 50 ms about 10 are busy; the cap only
# bites on a server far behind, where thousands of connect attempts would otherwise starve
# the generator's own loop. A request waiting for a connection is still timed from when it
# was due, so the wait counts in its latency.
CONNECTIONS = 512
_RESULT_PREFIX = "OPENLOOP_JSON "


@dataclass(frozen=True, slots=True)
class Plan:
    """`targets` are (path, expected status) pairs, asked in turn; `rate` requests/s in all."""

    base: str
    targets: Sequence[tuple[str, int]]
    rate: float
    duration: float
    warmup: float = 0.0
    timeout: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)
    connections: int = CONNECTIONS


@dataclass(frozen=True, slots=True)
class OpenLoopResult:
    """Figures of the measured window (the warm-up left out); latencies in milliseconds."""

    rate: float
    seconds: float
    scheduled: int
    completed: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    statuses: dict[str, int]
    unexpected_status: int  # a status other than the target's expected one
    timeouts: int
    connection_errors: int
    error_kinds: dict[str, int]  # the failures by exception, for the report
    late_sends: int  # left more than LATE_MS after their intended time
    max_send_lag_ms: float

    @property
    def errors(self) -> int:
        return self.unexpected_status + self.timeouts + self.connection_errors


@dataclass(slots=True)
class _Tally:
    latency: HdrHistogram = field(default_factory=lambda: HdrHistogram(1, _HIGHEST_US, 3))
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected_status: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    late_sends: int = 0
    max_send_lag: float = 0.0
    scheduled: int = 0


async def _one(
    session: aiohttp.ClientSession,
    url: str,
    expected: int,
    intended: float,
    tally: _Tally | None,
) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with session.get(url) as response:
            await response.read()
            status = response.status
    except TimeoutError:
        if tally is not None:
            tally.timeouts += 1
            tally.error_kinds["timeout"] += 1
        return
    except aiohttp.ClientError as error:
        if tally is not None:
            tally.connection_errors += 1
            tally.error_kinds[type(error).__name__] += 1
        return
    # From when the request was due, not when it left: a queue anywhere counts.
    elapsed_us = round((loop.time() - intended) * 1e6)
    if tally is None:
        return
    tally.latency.record_value(min(max(elapsed_us, 1), _HIGHEST_US))
    tally.statuses[status] += 1
    if status != expected:
        tally.unexpected_status += 1


async def measure(plan: Plan) -> OpenLoopResult:
    """Send `rate * (warmup + duration)` requests, the i-th due at start + i / rate, each on
    its own task over a pool of `connections`, so a slow answer delays no later send."""
    if plan.rate <= 0 or not plan.targets:
        raise ValueError("an open-loop run needs a positive rate and at least one target")
    loop = asyncio.get_running_loop()
    tally = _Tally()
    warmup_count = round(plan.rate * plan.warmup)
    total = warmup_count + round(plan.rate * plan.duration)
    connector = aiohttp.TCPConnector(limit=plan.connections)
    timeout = aiohttp.ClientTimeout(total=plan.timeout)
    tasks: set[asyncio.Task[None]] = set()
    async with aiohttp.ClientSession(
        plan.base, connector=connector, timeout=timeout, headers=plan.headers
    ) as session:
        start = loop.time() + 0.05
        sent = 0
        while sent < total:
            now = loop.time()
            # Every request already due leaves now; a late loop catches up, never skips.
            while sent < total and start + sent / plan.rate <= now:
                intended = start + sent / plan.rate
                measured = sent >= warmup_count
                if measured:
                    lag = now - intended
                    tally.scheduled += 1
                    tally.max_send_lag = max(tally.max_send_lag, lag)
                    if lag * 1000 > LATE_MS:
                        tally.late_sends += 1
                path, expected = plan.targets[sent % len(plan.targets)]
                task = loop.create_task(
                    _one(session, path, expected, intended, tally if measured else None)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            if sent < total:
                await asyncio.sleep(max(start + sent / plan.rate - loop.time(), 0))
        if tasks:
            await asyncio.gather(*tasks)
    histogram = tally.latency
    completed = histogram.get_total_count()

    def at(percentile: float) -> float:
        return histogram.get_value_at_percentile(percentile) / 1000 if completed else 0.0

    return OpenLoopResult(
        rate=plan.rate,
        seconds=plan.duration,
        scheduled=tally.scheduled,
        completed=completed,
        p50_ms=at(50),
        p95_ms=at(95),
        p99_ms=at(99),
        p999_ms=at(99.9),
        max_ms=histogram.get_max_value() / 1000 if completed else 0.0,
        statuses={str(status): count for status, count in sorted(tally.statuses.items())},
        unexpected_status=tally.unexpected_status,
        timeouts=tally.timeouts,
        connection_errors=tally.connection_errors,
        error_kinds=dict(tally.error_kinds),
        late_sends=tally.late_sends,
        max_send_lag_ms=tally.max_send_lag * 1000,
    )


def parse_result(output: str) -> OpenLoopResult:
    """The result a `python -m bench.openloop` run printed."""
    lines = [line for line in output.splitlines() if line.startswith(_RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"the open-loop generator printed no result:\n{output[-3000:]}")
    return OpenLoopResult(**json.loads(lines[-1].removeprefix(_RESULT_PREFIX)))


def _targets(path: Path) -> list[tuple[str, int]]:
    """One target a line: `<expected status> <path and query>`."""
    targets = []
    for line in path.read_text().splitlines():
        if line.strip():
            status, _, target = line.strip().partition(" ")
            targets.append((target, int(status)))
    return targets


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.openloop", description=__doc__)
    parser.add_argument("base", help="http://host:port")
    parser.add_argument("targets", type=Path, help="a file of `<expected status> <path>` lines")
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds sent, not measured")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--header", action="append", default=[], help="`Name: value`")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="open at most")
    args = parser.parse_args(argv)
    headers = dict(h.split(": ", 1) for h in args.header)
    plan = Plan(
        base=args.base,
        targets=_targets(args.targets),
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        timeout=args.timeout,
        headers=headers,
        connections=args.connections,
    )
    result = asyncio.run(measure(plan))
    sys.stdout.write(_RESULT_PREFIX + json.dumps(asdict(result)) + "\n")


if __name__ == "__main__":
    main()
