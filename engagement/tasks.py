"""django-q2 jobs of the suggestion queue. Jobs take ids or nothing, never model instances."""

from __future__ import annotations

from engagement.projection import reevaluate_due


def reevaluate_due_suggestions() -> int:
    """Re-evaluate the patients whose suggestions change with the clock by now."""
    return reevaluate_due()
