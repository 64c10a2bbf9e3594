"""Per-user request throttling (429 with Retry-After), one counter per user and period in
Django's cache: configure a shared cache (Redis) when running several web workers."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    """One counter per user and period ("300 in this minute"), incremented in place: the
    cost of a request does not grow with the rate allowed, and with a shared cache two
    workers cannot lose each other's counts (DRF's own throttle keeps and rewrites a list of
    every request's time in the period). A fixed window lets a user make up to twice the
    rate across the turn of a period; for keeping one busy desktop from starving the others
    that is enough."""

    scope = "user"
    # Set by DRF's __init__ from the rate; declared here for the type checker.
    num_requests: int | None
    duration: int | None
    now: float
    window_ends: float

    def get_rate(self) -> str | None:
        # Read at request time (DRF binds the rates at import), so settings overrides apply.
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate = rates.get(self.scope) if self.scope else None
        return str(rate) if rate is not None else None

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = float(self.timer())
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        counter = f"{key}:{window}"
        # The counter outlives its window by a second, so a late increment never recreates it.
        if self.cache.add(counter, 1, self.duration + 1):
            count = 1
        else:
            try:
                count = self.cache.incr(counter)
            except ValueError:  # expired between add and incr
                self.cache.set(counter, 1, self.duration + 1)
                count = 1
        return int(count) <= self.num_requests

    def wait(self) -> float | None:
        return max(self.window_ends - self.now, 0.001)
