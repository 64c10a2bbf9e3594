"""What an operator does with a parked stream: retry it, whichever projection parked it."""

from __future__ import annotations

import uuid

from crm.projections import profile, runner


class UnknownProjection(LookupError):
    pass


def retry(projection: str, stream_id: uuid.UUID) -> bool:
    """Replay a parked stream; True when it was released, False when it failed again."""
    if projection == profile.NAME:
        return profile.retry(stream_id)
    follower = runner.registered().get(projection)
    if follower is None:
        raise UnknownProjection(projection)
    return runner.retry(follower, stream_id)
