"""A voice set-up begun and not finished stops the start, naming what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm.voice import conf

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t" * 32}


def test_no_voice_setting_means_no_voice_and_nothing_to_say() -> None:
    assert conf.problems({}) == []
    assert conf.problems(ACCOUNT) == []


def test_a_voice_setting_without_the_account_names_both_missing_settings() -> None:
    (problem,) = conf.problems({"TWILIO_VOICE_QUEUE": "front-desk"})

    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are missing" in problem
    assert "TWILIO_VOICE_QUEUE" in problem


def test_a_voice_setting_without_the_token_names_it() -> None:
    env = {"TWILIO_VOICE_WORKFLOW_SID": "WW" + "1" * 32, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32}

    (problem,) = conf.problems(env)

    assert "TWILIO_AUTH_TOKEN is missing" in problem


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TWILIO_VOICE_WORKFLOW_SID": "WS123"}, "TWILIO_VOICE_WORKFLOW_SID"),
        ({"TWILIO_VOICE_QUEUE": "q" * 65}, "TWILIO_VOICE_QUEUE"),
        ({"TWILIO_VOICE_CRISIS_QUEUE": "clinic"}, "TWILIO_VOICE_CRISIS_QUEUE"),
        ({"TWILIO_VOICE_CRISIS_PRIORITY": "urgent"}, "TWILIO_VOICE_CRISIS_PRIORITY"),
        ({"TWILIO_VOICE_WAIT_URL": "ftp://music"}, "TWILIO_VOICE_WAIT_URL"),
    ],
)
def test_a_malformed_voice_setting_is_named(env: dict[str, str], named: str) -> None:
    (problem,) = conf.problems({**ACCOUNT, **env})

    assert named in problem


def test_a_workflow_needs_no_queue_of_its_own_for_crisis_callers() -> None:
    env = {**ACCOUNT, "TWILIO_VOICE_WORKFLOW_SID": "WW" + "1" * 32}

    assert conf.problems({**env, "TWILIO_VOICE_CRISIS_QUEUE": "clinic"}) == []


@pytest.mark.processes
def test_a_half_configured_voice_set_up_stops_the_process_at_start() -> None:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_URL"))}
    env = {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "s" * 40,
        "DEBUG": "1",
        "TWILIO_VOICE_QUEUE": "front-desk",
    }

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are missing" in result.stderr
