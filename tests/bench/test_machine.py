"""The machine-speed readings `make bench` takes between benchmarks (bench.machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import machine


def test_a_reading_times_both_probes_and_the_disk_flush_and_leaves_no_file(tmp_path: Path):
    speed = machine.read("commands", tmp_path)

    assert speed.before == "commands"
    assert 0 < speed.loop_ms < 10_000
    assert 0 < speed.memory_ms < 10_000
    assert 0 < speed.flush_us < 10_000_000
    assert list(tmp_path.iterdir()) == []


def _speed(before: str, loop_ms: float, memory_ms: float = 200.0) -> machine.Speed:
    return machine.Speed(
        before=before, at="12:00:00", loop_ms=loop_ms, memory_ms=memory_ms, flush_us=150.0
    )


def test_a_machine_that_slowed_during_the_run_is_called_out():
    speeds = [_speed("commands", 100.0), _speed("api", 125.0), _speed("end", 104.0)]

    rendered = machine.table(speeds).render()

    assert machine.spread(speeds) == pytest.approx(0.25)
    assert "api       12:00:00            125 (+25%)" in rendered
    assert "ran up to 25% slower at one reading than at another" in rendered


def test_memory_work_that_slowed_while_the_loop_did_not_is_called_out_too():
    speeds = [_speed("commands", 100.0, 200.0), _speed("api", 101.0, 320.0)]

    rendered = machine.table(speeds).render()

    assert machine.spread(speeds) == pytest.approx(0.6)
    assert "320 (+60%)" in rendered
    assert "ran up to 60% slower" in rendered


def test_a_steady_machine_is_said_to_be_steady():
    speeds = [_speed("commands", 100.0), _speed("end", 108.0)]

    rendered = machine.table(speeds).render()

    assert "steady: every reading within 8% of the fastest" in rendered
    assert "slower" not in rendered
