"""`manage.py install_schedules`: create or update the recurring django-q2 jobs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from crm.schedules import SCHEDULES


class Command(BaseCommand):
    help = "Install the recurring jobs in django-q2's schedule; running it twice changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        for job in SCHEDULES:
            _, created = Schedule.objects.update_or_create(
                name=job.name,
                defaults={
                    "func": job.func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": job.minutes,
                    "repeats": -1,
                },
            )
            self.stdout.write(f"{'installed' if created else 'kept'}: {job.name}")
