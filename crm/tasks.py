"""django-q2 jobs of the core. Jobs take ids or nothing, never model instances."""

from __future__ import annotations

from crm.projections import runner


def run_catch_up_projections() -> dict[str, int]:
    """Advance every catch-up projection; safe to run on many workers at once."""
    return runner.catch_up_all()
