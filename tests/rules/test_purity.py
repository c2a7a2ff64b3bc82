"""rules/ decides without I/O: it imports only core/ and config/ of datahealth, and no database, network or
orchestration library, directly (any import statement, lazy ones included), transitively, or at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SRC = REPO_ROOT / "src"
RULES = SRC / "datahealth" / "rules"
ALLOWED = ("datahealth.rules", "datahealth.core", "datahealth.config")
FORBIDDEN_PACKAGES = (
    "datahealth.store",
    "datahealth.sources",
    "datahealth.engines",
    "datahealth.publish",
    "datahealth.report",
    "datahealth.orchestration",
    "datahealth.cli",
)
IO_LIBRARIES = (
    "sqlalchemy",
    "duckdb",
    "psycopg",
    "pymysql",
    "sqlite3",
    "prefect",
    "httpx",
    "requests",
    "socket",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports(path: Path) -> Iterator[str]:
    """Every module an import statement in `path` names, wherever the statement is (functions included)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            for alias in node.names:  # `from datahealth.rules import status` imports a module
                if module_path(f"{base}.{alias.name}") is not None:
                    yield f"{base}.{alias.name}"


def rules_modules() -> list[Path]:
    return sorted(RULES.rglob("*.py"))


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def datahealth_graph() -> dict[str, set[str]]:
    """Import edges between datahealth modules reachable from rules/ (parent packages run first, so
    reaching a module reaches its packages' __init__ too)."""
    graph: dict[str, set[str]] = {}
    todo = [module_name(p) for p in rules_modules()]
    while todo:
        name = todo.pop()
        if name in graph:
            continue
        path = module_path(name)
        assert path is not None, name
        edges = {i for i in imports(path) if within(i, ("datahealth",)) and module_path(i) is not None}
        graph[name] = edges
        parents = [".".join(name.split(".")[:n]) for n in range(1, len(name.split(".")))]
        todo.extend([*edges, *parents])
    return graph


@pytest.mark.parametrize("path", rules_modules(), ids=lambda p: str(p.relative_to(RULES)))
def test_rules_module_imports_only_core_config_and_rules(path: Path) -> None:
    names = set(imports(path))
    own = {n for n in names if within(n, ("datahealth",))}
    assert {n for n in own if not within(n, ALLOWED)} == set()
    assert {n for n in own if within(n, FORBIDDEN_PACKAGES)} == set()
    assert {n for n in names if within(n, IO_LIBRARIES)} == set()


def test_the_parser_sees_lazy_and_module_imports() -> None:
    assert "croniter" in set(imports(RULES / "freshness.py"))  # imported inside a method
    assert {"datahealth.rules.status", "datahealth.config.models"} <= set(imports(RULES / "evaluate.py"))


def test_no_rules_module_opens_files() -> None:
    opened = [
        f"{path.relative_to(RULES)}:{node.lineno}"
        for path in rules_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert opened == []


def test_what_rules_reach_transitively_stays_in_core_and_config() -> None:
    graph = datahealth_graph()
    assert {"datahealth.rules.evaluate", "datahealth.rules.anomaly.stats", "datahealth.config.models"} <= set(
        graph
    )
    assert sorted(n for n in graph if n != "datahealth" and not within(n, ALLOWED)) == []


def test_no_import_cycles_from_rules_even_counting_lazy_imports() -> None:
    graph = datahealth_graph()
    cycles: list[list[str]] = []

    def visit(name: str, stack: list[str], done: set[str]) -> None:
        if name in stack:
            cycles.append(stack[stack.index(name) :] + [name])
            return
        if name in done:
            return
        for edge in sorted(graph.get(name, ())):
            visit(edge, [*stack, name], done)
        done.add(name)

    finished: set[str] = set()
    for name in sorted(graph):
        visit(name, [], finished)
    assert cycles == []


def test_importing_every_rules_module_loads_no_other_datahealth_package() -> None:
    names = [module_name(p) for p in rules_modules()]
    script = (
        f"import importlib, sys\nfor name in {names!r}: importlib.import_module(name)\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('datahealth'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout.split()
    assert set(names) <= set(loaded)
    assert sorted(m for m in loaded if m != "datahealth" and not within(m, ALLOWED)) == []
