"""The embedded SQLite file is shared by the web server and the worker: two processes
writing at once must queue, never fail with "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import datetime as dt, sys, django
django.setup()
from crm import handlers
from crm.handlers import Actor
actor = Actor(name=f"writer-{sys.argv[1]}", channel="job")
for n in range(60):
    handlers.patient_register(
        first_name=f"W{sys.argv[1]}n{n}", last_name="Concurrent",
        date_of_birth=dt.date(1990, 1, 1), phone="+1 617 555 0150", actor=actor,
    )
print("done")
"""


@pytest.mark.slow
def test_two_processes_write_to_the_embedded_database_without_lock_errors(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert migrate.returncode == 0, migrate.stderr

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(i)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [w.communicate(timeout=180) for w in writers]

    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0 and "database is locked" not in err, err
        assert out.strip() == "done"
    count = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from crm.models import PatientProfile, Event; "
            "print(PatientProfile.objects.count(), Event.objects.count())",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert count.stdout.split() == ["180", "180"]
