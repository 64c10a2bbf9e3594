"""django-q2 jobs of the desk: pruning the feed past what reconnecting desktops need."""

from __future__ import annotations

from crm.desk import feed


def prune_desk_feed() -> int:
    """Delete the feed's events older than DESK_KEEP_HOURS (a day by default)."""
    return feed.prune()
