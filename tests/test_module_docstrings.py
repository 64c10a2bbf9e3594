"""Every module of the project starts with one or two lines on what it is for (STYLE.md);
what a longer docstring would say belongs on the function or class it is about, or in docs/."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bench", "config", "crm", "deploy", "docs", "engagement", "fixtures", "reminders")
MOST_LINES = 2


def _modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from (p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)
    # The suite's helpers, not its test modules (a test's docstring says what it proves).
    yield from (p for p in (ROOT / "tests").rglob("*.py") if not p.name.startswith("test_"))


def docstring_lines(path: Path) -> int:
    """How many lines of text the module's docstring has (0 without one)."""
    text = ast.get_docstring(ast.parse(path.read_text(), filename=str(path)), clean=False)
    return len(text.strip().splitlines()) if text else 0


def test_every_module_says_what_it_is_for_in_one_or_two_lines() -> None:
    too_long = {
        path.relative_to(ROOT).as_posix(): lines
        for path in sorted(_modules())
        if (lines := docstring_lines(path)) > MOST_LINES
    }
    assert too_long == {}, (
        f"module docstrings longer than {MOST_LINES} lines (move the detail to the function or "
        "class it is about, or to docs/):\n"
        + "\n".join(f"  {name}: {lines} lines" for name, lines in too_long.items())
    )


def test_the_check_counts_lines_of_text(tmp_path: Path) -> None:
    short = tmp_path / "short.py"
    short.write_text('"""What it is for,\nin two lines.\n"""\n\nVALUE = 1\n')
    long = tmp_path / "long.py"
    long.write_text('"""What it is for.\n\nAnd a paragraph\nthat belongs elsewhere.\n"""\n')
    bare = tmp_path / "bare.py"
    bare.write_text("VALUE = 1\n")

    assert [docstring_lines(p) for p in (short, long, bare)] == [2, 4, 0]
