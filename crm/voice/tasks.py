"""The voice side's recurring django-q2 job: ending the calls whose callbacks stopped short
(crm.voice.settle), every minute."""

from __future__ import annotations

from django.utils import timezone

from crm import schedules

JOB = "crm.voice.tasks.settle_stale_calls"


def schedule() -> None:
    """Add the job to the recurring jobs `manage.py install_schedules` installs."""
    schedules.add(
        schedules.RecurringJob(
            name="crm: end the calls whose callbacks never came", func=JOB, minutes=1
        )
    )


def settle_stale_calls() -> dict[str, int]:
    """End the calls nothing more can be expected of; how many, by how they were logged."""
    from crm.voice.settle import calls_settle_stale

    counts: dict[str, int] = {}
    for call in calls_settle_stale(now=timezone.now()):
        key = call.disposition if call.logged_at else "held"
        counts[key] = counts.get(key, 0) + 1
    return counts
