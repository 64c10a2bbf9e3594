"""The voice settings (TWILIO_VOICE_*), read at start: a set-up begun and not finished stops
the process with a message naming what is missing (README, "Phone calls (Twilio Voice)")."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

VOICE_SETTINGS = (
    "TWILIO_VOICE_QUEUE",
    "TWILIO_VOICE_CRISIS_QUEUE",
    "TWILIO_VOICE_WORKFLOW_SID",
    "TWILIO_VOICE_CRISIS_PRIORITY",
    "TWILIO_VOICE_WAIT_URL",
)
# What a voice set-up cannot do without: the account whose calls these are, and the token
# that signs its webhooks (without it every call's webhook is refused, 403).
REQUIRED = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
_WORKFLOW_SID = re.compile(r"WW[0-9a-f]{32}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
MAX_QUEUE_NAME = 64  # Twilio's limit on a queue's name
MAX_PRIORITY = 2**31 - 1  # TaskRouter's task priority is a 32-bit integer


def problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong with the voice settings in `env` (os.environ), one sentence each, each
    naming its setting. Voice is in use once any TWILIO_VOICE_* setting is given."""
    given = [name for name in VOICE_SETTINGS if env.get(name, "").strip()]
    if not given:
        return []
    found: list[str] = []
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    if missing:
        found.append(
            f"Phone calls are set up ({', '.join(given)}) but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing: Twilio's calls could not be "
            "checked (signature) and would all be refused."
        )
    account = env.get("TWILIO_ACCOUNT_SID", "").strip()
    if account and not _ACCOUNT_SID.fullmatch(account):
        found.append("TWILIO_ACCOUNT_SID must be AC and 32 hex digits, as Twilio's console shows.")
    queue = env.get("TWILIO_VOICE_QUEUE", "").strip() or "clinic"
    crisis = env.get("TWILIO_VOICE_CRISIS_QUEUE", "").strip() or "clinic-priority"
    for name, value in (("TWILIO_VOICE_QUEUE", queue), ("TWILIO_VOICE_CRISIS_QUEUE", crisis)):
        if len(value) > MAX_QUEUE_NAME:
            found.append(f"{name} must be at most {MAX_QUEUE_NAME} characters (Twilio's limit).")
    workflow = env.get("TWILIO_VOICE_WORKFLOW_SID", "").strip()
    if workflow and not _WORKFLOW_SID.fullmatch(workflow):
        found.append(
            "TWILIO_VOICE_WORKFLOW_SID must be a TaskRouter workflow: WW and 32 hex digits."
        )
    if not workflow and queue == crisis:
        found.append(
            "TWILIO_VOICE_CRISIS_QUEUE must differ from TWILIO_VOICE_QUEUE: without a "
            "TaskRouter workflow, crisis callers go first through a queue of their own."
        )
    priority = env.get("TWILIO_VOICE_CRISIS_PRIORITY", "").strip()
    if priority and not (priority.isdigit() and 0 < int(priority) <= MAX_PRIORITY):
        found.append(
            f"TWILIO_VOICE_CRISIS_PRIORITY must be a whole number from 1 to {MAX_PRIORITY}."
        )
    wait_url = env.get("TWILIO_VOICE_WAIT_URL", "").strip()
    if wait_url and not wait_url.startswith(("https://", "http://")):
        found.append("TWILIO_VOICE_WAIT_URL must be an https:// URL Twilio can fetch.")
    return found


def check(env: Mapping[str, str]) -> None:
    """Stop the start when the voice settings are half done (config/settings.py)."""
    found = problems(env)
    if found:
        raise ImproperlyConfigured(" ".join(found))
