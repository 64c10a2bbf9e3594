"""Work run in several threads released at the same moment, each on its own database
connection: how the concurrency tests make real connections race."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def together(count: int, work: Callable[[int], Any], *, timeout: float = 120) -> list[Any]:
    """work(0) ... work(count - 1) in threads that start at once; what each returned, or the
    exception it raised."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
