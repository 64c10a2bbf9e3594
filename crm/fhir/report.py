"""What an import did, resource by resource: the counts of the summary table and every refusal,
ambiguous match and warning with its file, resource and reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeVar

# A report keeps at most this many lines of each list (the counts stay whole), so a broken
# export of millions of resources cannot fill memory with its refusals.
KEPT = 1000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    where: str
    resource: str
    reason: str

    def __str__(self) -> str:
        place = f"{self.file}, {self.where}" if self.where else self.file
        return f"{place}: {self.resource}: {self.reason}"


@dataclass(slots=True)
class Summary:
    read: Counter[str] = field(default_factory=Counter)
    imported: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # by resource type
    skipped_why: Counter[str] = field(default_factory=Counter)  # mapped types: why
    refused_count: Counter[str] = field(default_factory=Counter)
    ambiguous_by_type: Counter[str] = field(default_factory=Counter)  # left to the desk
    events: Counter[str] = field(default_factory=Counter)  # appended (or, dry, would be)
    refused: list[Problem] = field(default_factory=list)
    ambiguous: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ambiguous_count: int = 0
    warnings_count: int = 0
    # Files under a directory given that are not FHIR JSON by name: not read, but named.
    passed_over: list[str] = field(default_factory=list)
    passed_over_count: int = 0

    @property
    def mapped(self) -> int:
        """Resources of the kinds the CRM maps that were read (the benchmark's unit)."""
        return sum(
            n for kind, n in self.read.items() if kind in ("Patient", "Encounter", "Appointment")
        )

    def refuse(self, kind: str, problem: Problem) -> None:
        self.refused_count[kind or "unreadable"] += 1
        _keep(self.refused, problem)

    def ambiguity(self, problem: Problem, kind: str = "Patient") -> None:
        """A record matching cannot settle (only patients are matched): the desk decides."""
        self.ambiguous_count += 1
        self.ambiguous_by_type[kind] += 1
        _keep(self.ambiguous, problem)

    def pass_over(self, file: str) -> None:
        self.passed_over_count += 1
        _keep(self.passed_over, file)

    def warn(self, problem: Problem) -> None:
        self.warnings_count += 1
        _keep(self.warnings, problem)

    def rows(self) -> list[tuple[str, int, int, int, int, int, int]]:
        """(type, read, imported, unchanged, skipped, refused, to match) per resource type,
        then the total: each resource read is in exactly one of the other columns."""
        kinds = sorted(set(self.read) | set(self.refused_count))
        rows = [
            (
                kind,
                self.read[kind],
                self.imported[kind],
                self.unchanged[kind],
                self.skipped[kind],
                self.refused_count[kind],
                self.ambiguous_by_type[kind],
            )
            for kind in kinds
        ]
        read, imported, unchanged, skipped, refused, to_match = (
            sum(int(row[i]) for row in rows) for i in range(1, 7)
        )
        return [*rows, ("total", read, imported, unchanged, skipped, refused, to_match)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": dict(self.read),
            "imported": dict(self.imported),
            "unchanged": dict(self.unchanged),
            "skipped": dict(self.skipped),
            "skipped_why": dict(self.skipped_why),
            "refused": sum(self.refused_count.values()),
            "ambiguous": self.ambiguous_count,
            "warnings": self.warnings_count,
            "events": dict(self.events),
        }


def _keep(kept: list[T], item: T) -> None:
    """Add `item` to a report's list while it holds fewer than KEPT (its count goes on)."""
    if len(kept) < KEPT:
        kept.append(item)


def table(summary: Summary) -> str:
    """The summary as a plain-text table."""
    head = ("resource", "read", "imported", "unchanged", "skipped", "refused", "to match")
    rows = [head, *[tuple(str(v) for v in row) for row in summary.rows()]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
