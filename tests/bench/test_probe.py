"""The benchmarks' peak memory is the measured process's own, whatever started it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.probe import peak_rss_mb

PARENT_MB = 200

pytestmark = pytest.mark.processes


def test_a_child_of_a_large_parent_reports_its_own_peak_not_the_parents() -> None:
    ballast = bytearray(PARENT_MB * 2**20)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # touch every page
    assert peak_rss_mb() > PARENT_MB

    child = subprocess.run(
        [sys.executable, "-c", "from bench.probe import peak_rss_mb; print(peak_rss_mb())"],
        check=True,
        capture_output=True,
        text=True,
    )

    # ru_maxrss would say at least PARENT_MB here: exec keeps the parent's peak in it.
    assert float(child.stdout) < PARENT_MB / 2
