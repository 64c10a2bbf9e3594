"""`manage.py import_fhir PATH ...` or `--server URL [--since ISO]`: the EHR's FHIR R4 patients,
encounters and appointments into the log, with a progress bar and a summary table."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from crm.fhir.client import FhirServerError
from crm.fhir.importer import BATCH_SIZE, Importer
from crm.fhir.report import Summary, table
from crm.fhir.sync import sync


def _moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--since {text!r} is not an ISO 8601 date or time") from None
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    return value


class Command(BaseCommand):
    help = (
        "Import FHIR R4 Patient, Encounter and Appointment resources from files (Bundles, "
        "NDJSON) or a FHIR server. Safe to run again: what was imported is not imported twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="*", help="Files or directories (.json, .ndjson, .jsonl)."
        )
        parser.add_argument("--server", help="A FHIR R4 server's base URL to search.")
        parser.add_argument(
            "--since", type=_moment, help="Only resources changed since (ISO 8601; --server)."
        )
        parser.add_argument(
            "--full", action="store_true", help="--server: everything, not since the last sync."
        )
        parser.add_argument("--source", help="The EHR the files come from (FHIR_SOURCE).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help="Resources per commit."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        paths, server = options["paths"], options["server"]
        if bool(paths) == bool(server):
            raise CommandError("Give files or directories, or --server URL (one of the two).")
        if options["since"] and not server:
            raise CommandError("--since goes with --server.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        bar = tqdm(
            unit=" resources",
            disable=options["no_progress"] or None,
            file=sys.stderr,
            desc="dry run" if options["dry_run"] else "importing",
        )
        try:
            summary = self._run(paths, server, options, bar.update)
        except FhirServerError as exc:
            raise CommandError(f"The FHIR server could not be searched: {exc}") from None
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        self._report(summary, dry_run=options["dry_run"])

    def _run(
        self, paths: list[str], server: str | None, options: dict[str, Any], tick: Any
    ) -> Summary:
        if server:
            return sync(
                server,
                since=options["since"],
                full=options["full"],
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                on_resource=lambda: tick(1),
            )
        importer = Importer(
            source=options["source"] or settings.FHIR_SOURCE,
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            on_resource=lambda: tick(1),
        )
        return importer.import_files(paths)

    def _report(self, summary: Summary, *, dry_run: bool) -> None:
        out = self.stdout
        if dry_run:
            out.write("Dry run: nothing was written. What the import would do:")
        out.write(table(summary))
        if summary.events:
            verb = "would append" if dry_run else "appended"
            listed = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.events.items()))
            out.write(f"Events {verb}: {listed}")
        for reason, n in sorted(summary.skipped_why.items()):
            out.write(f"Skipped {n}: {reason}")
        for title, problems, total in (
            ("Refused", summary.refused, sum(summary.refused_count.values())),
            (
                "Ambiguous matches (listed for the front desk)",
                summary.ambiguous,
                summary.ambiguous_count,
            ),
            ("Warnings", summary.warnings, summary.warnings_count),
            (
                "Files not read (not .json, .ndjson or .jsonl by name)",
                summary.passed_over,
                summary.passed_over_count,
            ),
        ):
            if total:
                out.write(f"{title}: {total}")
                for problem in problems:
                    out.write(f"  {problem}")
                if total > len(problems):
                    out.write(f"  ... and {total - len(problems)} more")
