"""The reminders app keeps its rooms: its domain is plain Python, and no two of its modules
import each other, not even from inside a function."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "reminders"
# What a domain module may import besides the standard library.
DOMAIN_MAY_IMPORT = ("crm.domain", "reminders.domain")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module `name` imports, at its top or inside a function or a class."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from package import module` imports the module (its package's
                # __init__ runs first, as for any submodule, and is not counted).
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_domain_imports_nothing_but_the_standard_library_and_the_domains() -> None:
    modules = _modules()
    offending = {
        name: sorted(
            imported
            for imported in _imports(name, path, modules)
            if imported.split(".")[0] not in sys.stdlib_module_names
            and not _within(imported, DOMAIN_MAY_IMPORT)
        )
        for name, path in modules.items()
        if _within(name, ("reminders.domain",))
    }
    assert len(offending) >= 6  # the rules are where this test looks for them
    assert {name: found for name, found in offending.items() if found} == {}


def test_no_two_reminders_modules_import_each_other_even_inside_a_function() -> None:
    modules = _modules()
    graph = {
        name: sorted(imported for imported in _imports(name, path, modules) if imported in modules)
        for name, path in modules.items()
    }
    assert "reminders.dispatch.claim" in graph["reminders.dispatch"]  # the graph is real

    cycles: list[list[str]] = []
    state: dict[str, str] = {}  # "open" while on the path, "done" once explored

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for imported in graph[name]:
            if state.get(imported) == "open":
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert cycles == []
