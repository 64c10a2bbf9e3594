"""The work queue in the admin (engagement.admin.queue), registered on the clinic's site
when Django's admin discovers this package."""

from engagement.admin import queue

__all__ = ["queue"]
