"""The targets table `make bench` prints: each figure under its own column (bench.report)."""

from __future__ import annotations

import pytest

from bench import streams_desk
from bench.report import Report, Target, summary


def test_the_desk_streams_target_prints_its_goal_and_its_measurement_in_their_columns():
    report = Report(name="desk-streams", targets=[streams_desk.streams_target(4_000)])

    row = summary([report]).splitlines()[4]

    assert row.split()[-3:] == ["2,000", "4,000", "yes"]
    assert ">= 2,000" in row
    assert row.index(">= 2,000") < row.index("4,000")


def test_a_target_is_named_field_by_field_so_goal_and_measured_cannot_swap():
    with pytest.raises(TypeError):
        Target("lag p95, idle", "0.03 s", "< 2 s", True)  # type: ignore[misc]
