"""Per-user request throttling (429 with Retry-After).

Counts live in Django's default cache: per process with the built-in local-memory cache,
so configure a shared cache (Redis) when running several web workers.
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    scope = "user"

    def get_rate(self) -> str | None:
        # Read at request time (DRF binds the rates at import), so settings overrides apply.
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate = rates.get(self.scope) if self.scope else None
        return str(rate) if rate is not None else None
