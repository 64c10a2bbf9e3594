"""The recurring django-q2 jobs, installed idempotently by `manage.py install_schedules`;
other apps add theirs to `SCHEDULES` from their AppConfig.ready()."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecurringJob:
    name: str
    func: str  # dotted path of the task
    minutes: int


SCHEDULES: list[RecurringJob] = [
    RecurringJob(
        name="crm: catch-up projections",
        func="crm.tasks.run_catch_up_projections",
        minutes=1,
    ),
]


def add(job: RecurringJob) -> None:
    if all(existing.name != job.name for existing in SCHEDULES):
        SCHEDULES.append(job)
