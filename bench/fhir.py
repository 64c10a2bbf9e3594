"""`fhir`: a generated EHR export (Bulk Data NDJSON) of patients with years of visits imported
on PostgreSQL: mapped resources per second against baselines, peak memory by file count."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.database import (
    PROJECT_DIR,
    database_name,
    django_env,
    drop_database,
    prepare,
    setup_django,
    sibling_url,
)
from bench.probe import peak_rss_mb
from bench.report import Report, Table, Target, rate

TARGET_RATE = 2_000  # mapped resources imported per second
BATCHED = "batched: {} commands per transaction, 3 files"
BATCH_SIZE = 2_000  # the import's own default (crm.fhir.importer.BATCH_SIZE)
SOURCE = "https://ehr.bench.example/fhir"
SNOMED, CPT = "http://snomed.info/sct", "http://www.ama-assn.org/go/cpt"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_VISITS = [  # (system, code, text, minutes), weighted by how often a clinic sees them
    (SNOMED, "185349003", "Encounter for check up", 40),
    (CPT, "99213", "Office visit, established patient", 20),
    (CPT, "99214", "Office visit, established patient", 30),
    (CPT, "90834", "Psychotherapy, 45 minutes", 45),
    (CPT, "90791", "Psychiatric diagnostic evaluation", 60),
    (CPT, "36415", "Venipuncture", 10),
]


@dataclass(frozen=True, slots=True)
class FhirOptions:
    url: str
    patients: int = 1_000
    visits: int = 8  # encounters per patient over three years, on average
    batch_size: int = BATCH_SIZE
    many_files: int = 200  # the second layout: the same export over this many files
    one_by_one: bool = True  # also import one command per transaction (10x: 20 minutes)


def add_options(option: Callable[..., None]) -> None:
    """The benchmark's flags (each with its BENCH_ variable), for bench/__main__.py."""
    option("--fhir-patients", 1_000, "fhir: patients in the generated EHR export")
    option("--fhir-visits", 8, "fhir: encounters per patient, on average")
    option("--fhir-batch-size", BATCH_SIZE, "fhir: resources per transaction when batched")
    option("--fhir-files", 200, "fhir: files of the many-files layout")
    option(
        "--fhir-one-by-one",
        1,
        "fhir: 0 leaves out the run of one command per transaction (for large exports)",
    )


def fhir_url(base_url: str) -> str:
    return sibling_url(base_url, f"{database_name(base_url)}_fhir")


# --- the generated export ------------------------------------------------------------------


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _phone(n: int) -> str:
    return f"({201 + (n // 100) % 700}) 555-01{n % 100:02d}"


def export(patients: int, visits: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Per patient: the Patient, about `visits` encounters over three years (wellness,
    follow-ups, therapy, labs, a phone call now and then), appointments for some of them
    (fulfilled, cancelled, missed) and one booked ahead; ids and numbers synthetic."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for n in range(patients):
        pid = f"p{n}"
        yield {
            "resourceType": "Patient",
            "id": pid,
            "meta": {"versionId": "1", "lastUpdated": _when(now - dt.timedelta(days=30))},
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                            }
                        ]
                    },
                    "system": "urn:oid:2.16.840.1.113883.19.5",
                    "value": f"MRN{n:07d}",
                }
            ],
            "name": [{"use": "official", "family": f"Benchpatient{n}", "given": ["Avery"]}],
            "telecom": [
                {"system": "phone", "value": _phone(n), "use": "mobile"},
                {"system": "email", "value": f"patient{n}@example.org"},
            ],
            "birthDate": (
                dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
            ).isoformat(),
            "address": [{"use": "home", "state": rng.choice(["MA", "NY", "IL", "CO", "CA"])}],
            "communication": [
                {
                    "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en-US"}]},
                    "preferred": True,
                }
            ],
        }
        yield from _history(rng, pid, visits, now)


def _history(
    rng: random.Random, pid: str, visits: int, now: dt.datetime
) -> Iterator[dict[str, Any]]:
    count = max(1, visits + rng.randint(-3, 3))
    for v in range(count):
        starts = now - dt.timedelta(days=rng.randrange(7, 3 * 365), hours=rng.randrange(8))
        system, code, text, minutes = rng.choice(_VISITS)
        phone = rng.random() < 0.1
        coding = (
            {"system": SNOMED, "code": "185317003", "display": "Telephone encounter"}
            if phone
            else {"system": system, "code": code, "display": text}
        )
        ends = starts + dt.timedelta(minutes=12 if phone else minutes)
        meta = {"versionId": "1", "lastUpdated": _when(ends)}
        outcome = rng.random()
        if not phone and outcome < 0.35:  # booked through an appointment first
            status = "fulfilled" if outcome < 0.25 else ("noshow" if outcome < 0.3 else "cancelled")
            yield {
                "resourceType": "Appointment",
                "id": f"{pid}-a{v}",
                "meta": meta,
                "status": status,
                "serviceType": [{"coding": [coding]}],
                "start": _when(starts),
                "end": _when(ends),
                "created": _when(starts - dt.timedelta(days=14)),
                "participant": [
                    {"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"},
                    {
                        "actor": {"reference": "Practitioner/pr1", "display": "Dr. Example"},
                        "status": "accepted",
                    },
                ],
            }
            if status != "fulfilled":
                continue
        yield {
            "resourceType": "Encounter",
            "id": f"{pid}-e{v}",
            "meta": meta,
            "status": "finished",
            "class": {"system": ACT, "code": "VR" if phone else "AMB"},
            "type": [{"coding": [coding]}],
            "subject": {"reference": f"Patient/{pid}"},
            "participant": [
                {"individual": {"reference": "Practitioner/pr1", "display": "Dr. Example"}}
            ],
            "period": {"start": _when(starts), "end": _when(ends)},
            "serviceProvider": {"display": "Main Street Clinic"},
        }
    ahead = now + dt.timedelta(days=rng.randrange(2, 60), hours=rng.randrange(8))
    yield {
        "resourceType": "Appointment",
        "id": f"{pid}-ahead",
        "meta": {"versionId": "1", "lastUpdated": _when(now - dt.timedelta(days=3))},
        "status": "booked",
        "appointmentType": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0276", "code": "FOLLOWUP"}
            ]
        },
        "start": _when(ahead),
        "end": _when(ahead + dt.timedelta(minutes=30)),
        "participant": [{"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"}],
    }


def write(directory: Path, options: FhirOptions, files: int) -> int:
    """The export as Bulk Data NDJSON, one file per resource type in each of `files // 3`
    groups of patients; how many resources were written."""
    directory.mkdir(parents=True, exist_ok=True)
    groups = max(1, files // 3)
    per_group = -(-options.patients // groups)
    handles: dict[str, Any] = {}
    written = 0
    group = -1
    try:
        for item in export(options.patients, options.visits):
            if item["resourceType"] == "Patient":
                index = int(item["id"][1:]) // per_group
                if index != group:
                    for handle in handles.values():
                        handle.close()
                    handles, group = {}, index
            kind = item["resourceType"]
            if kind not in handles:
                handles[kind] = (directory / f"{group:04d}-{kind}.ndjson").open("w")
            handles[kind].write(json.dumps(item) + "\n")
            written += 1
    finally:
        for handle in handles.values():
            handle.close()
    return written


# --- child processes -------------------------------------------------------------------------


def _import_child(url: str, directory: str, batch_size: int) -> None:
    setup_django(url)
    from crm.fhir.importer import Importer

    importer = Importer(source=SOURCE, batch_size=batch_size)
    began = time.perf_counter()
    summary = importer.import_files([directory])
    seconds = time.perf_counter() - began
    refused = sum(summary.refused_count.values())
    print(
        json.dumps(
            {
                "seconds": seconds,
                "mapped": summary.mapped,
                "imported": sum(summary.imported.values()),
                "unchanged": sum(summary.unchanged.values()),
                "refused": refused,
                "events": sum(summary.events.values()),
                "peak_mb": peak_rss_mb(),
            }
        )
    )


def _parse_child(url: str, directory: str) -> None:
    """Read, validate and map every resource, no database: the floor under any import."""
    setup_django(url)
    import zoneinfo

    from crm.fhir import mapping
    from crm.fhir.reading import files, read
    from crm.fhir.resources import MODELS, validate

    context = mapping.Context(source=SOURCE, region="US", zone=zoneinfo.ZoneInfo("UTC"))
    mappers = {
        "Patient": mapping.patient,
        "Encounter": mapping.encounter,
        "Appointment": mapping.appointment,
    }
    began = time.perf_counter()
    mapped = 0
    for path in files([directory]):
        for entry in read(path):
            if entry.resource is not None and entry.resource_type in MODELS:
                mappers[entry.resource_type](validate(entry.resource), entry.key, context)
                mapped += 1
    print(
        json.dumps(
            {"seconds": time.perf_counter() - began, "mapped": mapped, "peak_mb": peak_rss_mb()}
        )
    )


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.fhir", *args],
        cwd=PROJECT_DIR,
        env=django_env(args[1]),
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _fresh(url: str) -> None:
    drop_database(url)
    prepare(url)


# --- the benchmark -----------------------------------------------------------------------------


def run(options: FhirOptions) -> Report:
    url = fhir_url(options.url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-fhir-"))
    try:
        few, many = workdir / "few", workdir / "many"
        resources = write(few, options, 3)
        write(many, options, options.many_files)
        count = len(list(many.iterdir()))
        print(f"  fhir: {options.patients:,} patients, {resources:,} resources written", flush=True)
        parsed = _child(["parse", url, str(few)])
        runs: dict[str, dict[str, Any]] = {}
        plan = [
            ("one command per resource, each its own transaction", few, 1),
            (BATCHED.format(options.batch_size), few, options.batch_size),
            (f"batched, the same export in {count} files", many, options.batch_size),
        ]
        for name, directory, batch in plan if options.one_by_one else plan[1:]:
            _fresh(url)
            runs[name] = _child(["import", url, str(directory), str(batch)])
            print(
                f"  fhir: {name}: {runs[name]['mapped'] / runs[name]['seconds']:,.0f}/s", flush=True
            )
        again = _child(["import", url, str(many), str(options.batch_size)])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        drop_database(url)
    return _report(options, resources, parsed, runs, again, count)


def _report(
    options: FhirOptions,
    resources: int,
    parsed: dict[str, Any],
    runs: dict[str, dict[str, Any]],
    again: dict[str, Any],
    files: int,
) -> Report:
    rows = [
        [
            "baseline: read, validate and map only (no database)",
            f"{parsed['mapped']:,}",
            "",
            f"{parsed['seconds']:.1f}",
            rate(parsed["mapped"] / parsed["seconds"]),
            f"{parsed['peak_mb']:.0f}",
        ]
    ]
    for name, figures in runs.items():
        rows.append(
            [
                name,
                f"{figures['mapped']:,}",
                f"{figures['events']:,}",
                f"{figures['seconds']:.1f}",
                rate(figures["mapped"] / figures["seconds"]),
                f"{figures['peak_mb']:.0f}",
            ]
        )
    rows.append(
        [
            "the same export again (all unchanged)",
            f"{again['mapped']:,}",
            f"{again['events']:,}",
            f"{again['seconds']:.1f}",
            rate(again["mapped"] / again["seconds"]),
            f"{again['peak_mb']:.0f}",
        ]
    )
    *single, batched, spread = runs.values()
    throughput = batched["mapped"] / batched["seconds"]
    gain = (
        f"{throughput / (single[0]['mapped'] / single[0]['seconds']):.1f}x"
        if single
        else "not measured"
    )
    same_events = len({r["events"] for r in runs.values()}) == 1
    table = Table(
        f"fhir: {options.patients:,} patients, {resources:,} resources (Patient, Encounter, "
        "Appointment; Bulk Data NDJSON), imported on PostgreSQL by one process",
        ["run", "resources", "events", "seconds", "resources/s", "peak MB"],
        rows,
        notes=[
            f"every run appends the same events: {'yes' if same_events else 'NO'}; refused: "
            f"{sum(r['refused'] for r in runs.values())}; the second import appended "
            f"{again['events']} events ({again['unchanged']:,} unchanged)",
            f"batched / one by one: {gain}; peak memory with 3 files "
            f"{batched['peak_mb']:.0f} MB, with {files} files {spread['peak_mb']:.0f} MB",
        ],
    )
    flat = spread["peak_mb"] <= batched["peak_mb"] * 1.1 + 5
    return Report(
        name="fhir",
        tables=[table],
        targets=[
            Target(
                name="mapped resources imported per second",
                measured=rate(throughput),
                goal=f">= {TARGET_RATE:,}",
                met=throughput >= TARGET_RATE,
            ),
            Target(
                name="peak memory flat in the number of files",
                measured=f"{batched['peak_mb']:.0f} -> {spread['peak_mb']:.0f} MB",
                goal="within 10%",
                met=flat,
            ),
            Target(
                name="re-import appends nothing",
                measured=f"{again['events']} events",
                goal="0",
                met=again["events"] == 0,
            ),
        ],
    )


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "import":
        _import_child(rest[0], rest[1], int(rest[2]))
    elif command == "parse":
        _parse_child(rest[0], rest[1])
    else:
        raise SystemExit(f"unknown command {command!r}")
