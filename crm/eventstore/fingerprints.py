"""What an idempotency key is bound to: the SHA-256 of the command's name and arguments as
canonical JSON, one rule for every door (API, admin, SMS, jobs)."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import uuid
from collections.abc import Mapping


def fingerprint(operation: str, arguments: Mapping[str, object]) -> str:
    """64 hex digits naming `operation` run with `arguments` (key order does not matter)."""
    text = json.dumps(
        [operation, arguments],
        default=_plain,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("a command's datetime must be timezone-aware")
        # The same instant written in another zone is the same command.
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    # Anything else would need a rule of its own; str() of it could differ between runs.
    raise TypeError(f"no fingerprint rule for {type(value).__name__}")
