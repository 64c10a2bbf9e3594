"""django-q2 jobs of the reminders app. Jobs take ids or nothing."""

from __future__ import annotations

import dataclasses

from reminders.dispatch import dispatch_due as _dispatch_due


def dispatch_due() -> dict[str, int]:
    """One dispatcher pass: reconcile, send what is due, record the outcomes."""
    return dataclasses.asdict(_dispatch_due())
