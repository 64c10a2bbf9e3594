"""How fast the machine is right now, read between benchmarks: its Python (a loop, and work
on memory) and its disk's flush, so a run's figures can be read against it."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.report import Table

LOOP = 5_000_000  # additions of the loop probe: about 0.15 s on the machines here
ROWS = 50_000  # small dicts the memory probe builds, encodes, decodes and sorts (about 0.1 s)
FLUSHES = 50  # 8 kB writes, each flushed to the disk
# Past this spread between the run's probes, a ratio taken across windows minutes apart (the
# lookup against the bare view, ours against eventsourcing) moves with the machine.
STEADY = 0.10


@dataclass(frozen=True, slots=True)
class Speed:
    """One reading: when, what was about to run, the two Python probes (each the fastest of
    three) and the median flush."""

    at: str  # HH:MM:SS UTC
    before: str  # the benchmark that followed, "end" after the last
    loop_ms: float
    memory_ms: float
    flush_us: float


def read(before: str, directory: Path) -> Speed:
    """The machine's speed now, taken in this process (nothing else of the run is running)."""
    loop_ms = min(_loop() for _ in range(3)) * 1000
    memory_ms = min(_memory_work() for _ in range(3)) * 1000
    flush_us = statistics.median(_flushes(directory)) * 1e6
    at = time.strftime("%H:%M:%S", time.gmtime())
    return Speed(before=before, at=at, loop_ms=loop_ms, memory_ms=memory_ms, flush_us=flush_us)


def _loop() -> float:
    began = time.process_time()
    total = 0
    for n in range(LOOP):
        total += n
    return time.process_time() - began


def _memory_work() -> float:
    # What a request's Python does more of than a loop: allocate, encode, decode, compare
    # (2026-12-07: a screen pop ran 1.6x slower for a while when the loop moved 10-20%).
    began = time.process_time()
    rows = [{"id": n, "name": f"patient {n}", "when": str(n * 7919)} for n in range(ROWS)]
    decoded = json.loads(json.dumps(rows))
    decoded.sort(key=lambda row: row["when"])
    return time.process_time() - began


def _flushes(directory: Path) -> list[float]:
    # In the project's directory: on this machine, the disk the database writes to as well.
    block = os.urandom(8192)
    times = []
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".bench-flush-") as handle:
        for _ in range(FLUSHES):
            began = time.perf_counter()
            handle.write(block)
            handle.flush()
            os.fdatasync(handle.fileno())
            times.append(time.perf_counter() - began)
    return times


def spread(speeds: Sequence[Speed]) -> float:
    """How far the slowest Python reading (either probe) is above the fastest of its kind:
    0.25 is 25% slower."""
    return max(_slower(s.loop_ms for s in speeds), _slower(s.memory_ms for s in speeds))


def _slower(values: Iterable[float]) -> float:
    readings = list(values)
    return max(readings) / min(readings) - 1


def _against_fastest(readings: list[float]) -> list[str]:
    fastest = min(readings)
    return [f"{value:,.0f} ({value / fastest - 1:+.0%})" for value in readings]


def table(speeds: Sequence[Speed]) -> Table:
    loops = _against_fastest([s.loop_ms for s in speeds])
    memory = _against_fastest([s.memory_ms for s in speeds])
    rows = [
        [s.before, s.at, loop, work, f"{s.flush_us:,.0f}"]
        for s, loop, work in zip(speeds, loops, memory, strict=True)
    ]
    result = Table(
        "The machine's speed during the run",
        ["before", "at (UTC)", "loop ms (vs fastest)", "memory ms (vs fastest)", "flush us"],
        rows,
    )
    result.notes.append(
        f"loop: {LOOP:,} additions; memory: {ROWS:,} small dicts built, encoded, decoded and "
        "sorted; each the fastest of three, CPU time in this process; flush: the median of "
        f"{FLUSHES} 8 kB writes each followed by fdatasync"
    )
    change = spread(speeds)
    if change > STEADY:
        result.notes.append(
            f"the machine's Python ran up to {change:.0%} slower at one reading than at "
            "another: a ratio between windows run minutes apart moves with that "
            "(docs/benchmarks.md)"
        )
    else:
        result.notes.append(f"steady: every reading within {change:.0%} of the fastest")
    return result
