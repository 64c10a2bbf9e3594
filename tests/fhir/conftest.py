"""Fixtures of the import tests: write FHIR files and import them at the clinic's 'now'."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from crm.fhir.importer import Importer
from crm.fhir.report import Summary
from tests.fhir import builders as b

SOURCE = "https://ehr.example/fhir"
_files = itertools.count(1)


@pytest.fixture
def ehr(tmp_path: Path, now: dt.datetime):  # type: ignore[no-untyped-def]
    """ehr(*resources, dry_run=False, at=now, name=None): write them to an NDJSON file of
    their own and import it; returns the summary."""

    def run(
        *resources, dry_run: bool = False, at: dt.datetime | None = None, batch_size: int = 50
    ) -> Summary:  # type: ignore[no-untyped-def]
        path = b.write_ndjson(tmp_path / f"export-{next(_files)}.ndjson", *resources)
        importer = Importer(source=SOURCE, dry_run=dry_run, now=at or now, batch_size=batch_size)
        return importer.import_files([path])

    return run
