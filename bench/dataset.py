"""The shared large dataset: 100,000 patients and 2,000,000 events in `crm_bench_large`,
seeded once and reused (docs/benchmarks.md, The large dataset)."""

from __future__ import annotations

import random
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
from psycopg.conninfo import make_conninfo

from bench.database import (
    bench_url,
    conninfo,
    database_name,
    drop_database,
    prepare,
    sibling_url,
)
from bench.seed import counts, seed

NAME = "crm_bench_large"
MIN_LENGTH = 10
MAX_LENGTH = 30
UNUSED_SHARE = 0.10  # of the fictional numbers, kept for callers nobody knows
_LOCK_KEY = 0x62656E63686C61  # "benchla": the advisory lock guarding the seeding
_POOL_SEED = 20261103  # fixes which numbers are used and which are kept unknown


PATIENTS = 100_000
EVENTS = 2_000_000


def large_url(
    base_url: str | None = None, *, patients: int = PATIENTS, events: int = EVENTS
) -> str:
    """`crm_bench_large` for the default sizes; other sizes (smoke runs) get their own."""
    name = NAME if (patients, events) == (PATIENTS, EVENTS) else f"{NAME}_{patients}_{events}"
    return sibling_url(base_url or bench_url(), name)


def ensure_large(*, patients: int = PATIENTS, events: int = EVENTS, processes: int = 2) -> str:
    """The URL of the large dataset, seeded with `patients` streams and `events` events.

    Other sizes than the defaults live in their own database, `crm_bench_large_<p>_<e>`.
    An interrupted seeding is topped up on the next call (each transaction commits whole
    streams); a second caller waits on an advisory lock and reuses what the first seeded.
    """
    if not _fits(patients, events):
        raise ValueError(
            f"{events:,} events for {patients:,} patients: streams are {MIN_LENGTH} to "
            f"{MAX_LENGTH} events long"
        )
    url = large_url(patients=patients, events=events)
    name = database_name(url)
    with _seeding_lock(url):
        prepare(url)
        seeded = _recorded(url)
        present_patients, present_events = counts(url)
        if seeded == (patients, events) and present_events >= events:
            print(f"  {name}: reusing {patients:,} patients, {present_events:,} events", flush=True)
            return url
        if seeded is not None or not _fits(patients - present_patients, events - present_events):
            if present_events:
                print(f"  {name} holds another dataset; re-creating it", flush=True)
                drop_database(url)
                prepare(url)
            present_patients = present_events = 0
        seed(
            url,
            processes=processes,
            min_length=MIN_LENGTH,
            max_length=MAX_LENGTH,
            patients=patients - present_patients,
            events=events - present_events,
            phones=used_phones(),
            label=f"seeding {name}",
        )
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) crm_event, crm_patient_profile")
            conn.execute(
                "INSERT INTO bench_dataset (patients, events, seeded_at) VALUES (%s, %s, now())",
                [patients, events],
            )
    return url


@cache
def fictional_phones() -> tuple[str, ...]:
    """Every +1 NXX 555-01xx number phonenumbers accepts as valid (45,100 of them)."""
    import phonenumbers

    phones: list[str] = []
    for area in range(200, 1000):
        if phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area}5550100", None)):
            phones.extend(f"+1{area}55501{line:02d}" for line in range(100))
    return tuple(phones)


def _split() -> tuple[list[str], list[str]]:
    phones = list(fictional_phones())
    random.Random(_POOL_SEED).shuffle(phones)
    unused = round(len(phones) * UNUSED_SHARE)
    return phones[unused:], phones[:unused]


def used_phones() -> list[str]:
    """The numbers patients are given (each patient one, at random)."""
    return _split()[0]


def unused_phones() -> list[str]:
    """Valid fictional numbers no patient of the dataset has."""
    return _split()[1]


def phones_by_matches(url: str) -> dict[int, list[str]]:
    """The patients' numbers grouped by how many (unmerged) patients share each."""
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT phone, count(*) FROM crm_patient_profile "
            "WHERE phone IS NOT NULL AND merged_into IS NULL GROUP BY phone ORDER BY phone"
        ).fetchall()
    grouped: dict[int, list[str]] = {}
    for phone, matches in rows:
        grouped.setdefault(int(matches), []).append(str(phone))
    return grouped


def describe(url: str) -> str:
    """One line on what the dataset holds, for a benchmark's notes."""
    patients, events = counts(url)
    grouped = phones_by_matches(url)
    shared = sum(len(v) for k, v in grouped.items() if k > 1)
    single = len(grouped.get(1, []))
    return (
        f"{database_name(url)}: {patients:,} patients, {events:,} events; {single:,} numbers "
        f"with one patient, {shared:,} shared by 2 to {max(grouped, default=0)}"
    )


# --- seeding ---------------------------------------------------------------------------


@contextmanager
def _seeding_lock(url: str) -> Iterator[None]:
    name = database_name(url)
    key = _LOCK_KEY if name == NAME else _LOCK_KEY + zlib.crc32(name.encode())
    admin = make_conninfo(conninfo(url), dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        if not (row and row[0]):
            print(f"  {name}: another process is seeding it; waiting", flush=True)
            conn.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])


def _recorded(url: str) -> tuple[int, int] | None:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_dataset ("
            "patients integer NOT NULL, events bigint NOT NULL, seeded_at timestamptz NOT NULL)"
        )
        row = conn.execute(
            "SELECT patients, events FROM bench_dataset ORDER BY seeded_at DESC LIMIT 1"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _fits(patients: int, events: int) -> bool:
    """Whether `patients` streams of MIN_LENGTH to MAX_LENGTH events can hold `events`."""
    return patients >= 0 and MIN_LENGTH * patients <= events <= MAX_LENGTH * patients


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.dataset [patients events]`: seed (or reuse) and describe it."""
    args = sys.argv[1:] if argv is None else argv
    sizes = {"patients": int(args[0]), "events": int(args[1])} if len(args) == 2 else {}
    url = ensure_large(**sizes)
    print(f"{database_name(url)} ready: {describe(url)}")


if __name__ == "__main__":
    main()
