"""The domain in bot/ never reaches for the Slack doors (ARCHITECTURE.md §1)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSITION_ROOTS = {"bot/app.py", "bot/cli.py", "bot/__main__.py"}
FORBIDDEN = ("handlers", "jobs", "slack_bolt", "slack_sdk")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_domain_modules_do_not_import_handlers_jobs_or_slack_clients() -> None:
    leaks = {
        str(path.relative_to(ROOT)): sorted(
            module for module in imported_modules(path) if module.split(".")[0] in FORBIDDEN
        )
        for path in (ROOT / "bot").rglob("*.py")
        if str(path.relative_to(ROOT)) not in COMPOSITION_ROOTS
    }

    assert {path: modules for path, modules in leaks.items() if modules} == {}


def test_listeners_never_import_jobs() -> None:
    """A listener that must start a job's work now asks `Deps.run_now` (the composition root
    wires it), so the Slack door never reaches into the clock door."""
    leaks = {
        str(path.relative_to(ROOT)): sorted(
            module for module in imported_modules(path) if module.split(".")[0] == "jobs"
        )
        for path in (ROOT / "handlers").rglob("*.py")
    }

    assert {path: modules for path, modules in leaks.items() if modules} == {}


def test_listeners_never_touch_the_database_directly() -> None:
    """Queries, transactions and database errors belong to the domain: a listener asks a
    `bot/` function (for example `bot.core.db.is_database_unavailable`) instead."""
    leaks = {
        str(path.relative_to(ROOT)): sorted(
            module
            for module in imported_modules(path)
            if module.split(".")[0] in ("sqlmodel", "sqlalchemy")
        )
        for path in (ROOT / "handlers").rglob("*.py")
    }

    assert {path: modules for path, modules in leaks.items() if modules} == {}


def imported_test_modules(path: Path) -> set[str]:
    """Every module `path` imports, with `from tests import test_x` and relative imports
    spelled out in full (``tests.test_x``), so none of them slips past a prefix check."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            )
            module = ".".join([*base, *([node.module] if node.module else [])])
            modules.add(module)
            modules.update(f"{module}.{alias.name}" for alias in node.names)
    return modules


def test_no_test_file_imports_another_test_module_or_conftest() -> None:
    """What tests share lives in tests/support/: a test module or conftest.py is never
    imported (pytest loads conftest itself; importing it twice runs it twice)."""
    leaks = {
        str(path.relative_to(ROOT)): sorted(
            module
            for module in imported_test_modules(path)
            if module == "tests.conftest" or module.startswith(("tests.test_", "tests.conftest."))
        )
        for path in (ROOT / "tests").rglob("*.py")
    }

    assert {path: modules for path, modules in leaks.items() if modules} == {}
