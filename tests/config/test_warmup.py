"""A web process imports its views and compiles the screen pop's renderer before it serves,
without opening a database connection (deploy/gunicorn.conf.py forks workers from it)."""

from __future__ import annotations

import gc
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.processes  # a Python process of its own

SHOW = """
import json, sys
import {entry}
from django.db import connections
from crm.api import lookup

print(json.dumps({{
    "views": "crm.api.views.patients" in sys.modules,
    "connections": [c.alias for c in connections.all() if c.connection is not None],
    "renderer": lookup.render_lookup.cache_info().currsize,
}}))
"""


def _started(tmp_path: Path, entry: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    env["DJANGO_SETTINGS_MODULE"] = "config.test_settings"
    result = subprocess.run(
        [sys.executable, "-c", SHOW.format(entry=entry)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


def test_the_wsgi_entry_point_imports_the_views_before_the_first_request(tmp_path):
    started = _started(tmp_path, "config.wsgi")

    assert started["views"] is True
    assert started["connections"] == []  # nothing a forked worker could share
    assert started["renderer"] == 1  # the screen pop's renderer, compiled


def test_without_the_warm_up_the_first_request_would_import_them(tmp_path):
    # The control: Django's own entry point leaves the URLconf to the first request.
    started = _started(
        tmp_path,
        "django; django.setup(); from django.core.wsgi import get_wsgi_application; "
        "get_wsgi_application()",
    )

    assert started["views"] is False
    assert started["renderer"] == 0


def test_gunicorn_sets_the_masters_objects_aside_from_the_collector_before_each_fork():
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        conf["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0  # a worker's full collections skip them
    finally:
        gc.unfreeze()
