"""One measurement in a fresh process, so its peak RSS is its own: `python -m bench.probe`."""

from __future__ import annotations

import argparse
import json
import resource
import time

import psycopg

from bench.database import conninfo, setup_django

SCAN_SQL = (
    "SELECT position, stream_id, version, event_type, schema_version, data, metadata, "
    "occurred_at, recorded_at FROM crm_event ORDER BY stream_id, version"
)
SCAN_CHUNK = 5000  # the chunk size iter_by_stream fetches with


def peak_rss_mb() -> float:
    """This process's own peak resident memory: the high-water mark of its address space
    (VmHWM). Not `ru_maxrss`: on Linux exec keeps the forking parent's peak in it, so a
    child of a large parent (the benchmark's, after seeding) reports at least the
    parent's size. `ru_maxrss` only where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def scan(url: str) -> dict[str, float]:
    """The baseline: every event through a raw server-side cursor in the rebuild's order."""
    before = peak_rss_mb()
    events = 0
    started = time.perf_counter()
    with psycopg.connect(conninfo(url)) as conn, conn.cursor(name="bench_scan") as cursor:
        cursor.itersize = SCAN_CHUNK
        cursor.execute(SCAN_SQL)
        for row in cursor:
            events += 1
            assert isinstance(row[5], dict)  # the JSON really was decoded
    seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, "rss_before_mb": before, "peak_mb": peak_rss_mb()}


def rebuild(url: str) -> dict[str, float]:
    setup_django(url)
    from crm.projections import profile

    before = peak_rss_mb()
    started = time.perf_counter()
    events = profile.rebuild()
    seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, "rss_before_mb": before, "peak_mb": peak_rss_mb()}


def main() -> None:
    """Print one JSON line: events read, seconds, peak RSS before and after the work."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["scan", "rebuild"])
    parser.add_argument("url")
    args = parser.parse_args()
    result = scan(args.url) if args.what == "scan" else rebuild(args.url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
