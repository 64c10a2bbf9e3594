"""Recording a time as the code did before the plausible-range checks: to prove that a
time already in a log (year 1, year 9999) is still shown by every reader."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from crm.domain import times

_CHECKS = ("check_past", "check_ahead", "check_in_range", "check_day_in_range")


@contextlib.contextmanager
def without_time_bounds() -> Iterator[None]:
    def accept(*args: Any, **kwargs: Any) -> None:
        return None

    with pytest.MonkeyPatch.context() as patch:
        for name in _CHECKS:
            patch.setattr(times, name, accept)
        yield
