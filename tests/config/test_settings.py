"""A bad deployment fails at start with a message that names the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each starts Python with the settings of a case: a second apiece, so not in `make test-fast`.
pytestmark = pytest.mark.processes

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"SECRET_KEY": "s" * 40, "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"}


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", *GOOD, *env}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env={**clean, **GOOD, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/crm", "DATABASE_URL uses an unsupported engine"),
        ("DATABASE_URL", "postgres://host:notaport/crm", "DATABASE_URL is malformed"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "TIME_ZONE='Mars/Olympus_Mons' is not an IANA"),
        ("PHONE_DEFAULT_REGION", "XX", "PHONE_DEFAULT_REGION='XX'"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 32 characters"),
        ("PROJECTION_BATCH_SIZE", "lots", "PROJECTION_BATCH_SIZE='lots' is not a whole number"),
    ],
)
def test_a_malformed_setting_stops_the_start_naming_it(variable, value, message):
    result = _start(**{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_a_missing_secret_key_stops_the_start_unless_debugging():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    code = "import django; django.setup()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_good_settings_start(tmp_path):
    result = _start(DATABASE_URL=f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_the_embedded_database_folder_is_created_on_a_fresh_checkout(tmp_path):
    folder = tmp_path / "not-yet"
    result = _start(DATABASE_URL=f"sqlite:///{folder / 'crm.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert folder.is_dir()


def _twilio_token(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TWILIO_AUTH_TOKEN"}}
    code = "import django; django.setup(); from django.conf import settings; "
    code += "print(repr(settings.TWILIO_AUTH_TOKEN))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **GOOD, "SMS_BACKEND": "console", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return str(result.stdout.strip().splitlines()[-1])


def test_the_published_dev_webhook_token_is_used_only_in_development():
    # `make run` (DEBUG on, texts printed): `make call` rings it with no token to choose.
    assert _twilio_token(DEBUG="1") == repr("dev-only-twilio-auth-token")
    # Production never checks webhooks with it: without a token of its own, none is valid.
    assert _twilio_token(DEBUG="0") == repr("")
    # A token given is the token used, in development too.
    assert _twilio_token(DEBUG="1", TWILIO_AUTH_TOKEN="chosen") == repr("chosen")
