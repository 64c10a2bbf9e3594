"""What a benchmark hands back: tables of figures and the targets it checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    name: str
    measured: str
    goal: str
    met: bool


@dataclass(slots=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left: int = 1  # leading columns of text, left-aligned; figures are right-aligned

    def render(self) -> str:
        widths = [
            max(len(self.columns[i]), *(len(row[i]) for row in self.rows)) if self.rows else len(c)
            for i, c in enumerate(self.columns)
        ]
        lines = [self.title, ""]
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            cells = [
                cell.ljust(w) if i < self.left else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells))
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass(slots=True)
class Report:
    name: str
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def render(self) -> str:
        parts = [table.render() for table in self.tables]
        if self.targets:
            targets = Table(
                f"{self.name}: targets",
                ["target", "goal", "measured", "met"],
                [[t.name, t.goal, t.measured, "yes" if t.met else "NO"] for t in self.targets],
            )
            parts.append(targets.render())
        return "\n\n".join(parts)


def summary(reports: Sequence[Report]) -> str:
    """Every target the run checked, in one table for the end of `make bench`."""
    table = Table(
        "All targets",
        ["benchmark", "target", "goal", "measured", "met"],
        [
            [r.name, t.name, t.goal, t.measured, "yes" if t.met else "NO"]
            for r in reports
            for t in r.targets
        ],
        left=2,
    )
    met = sum(row[-1] == "yes" for row in table.rows)
    table.notes.append(f"{met} of {len(table.rows)} targets met")
    if unchecked := [r.name for r in reports if not r.targets]:
        table.notes.append(f"no target checked by: {', '.join(unchecked)}")
    return table.render()


def rate(value: float) -> str:
    return f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.1%}" if value < 10 else f"{value:.1f}x"
