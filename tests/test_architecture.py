"""Rules about how datahealth's modules depend on each other, read from the source with `ast`.

* No import cycles among datahealth modules. Every import outside a function counts, including those
  under `if TYPE_CHECKING:` (a cycle hidden from the interpreter is still a cycle in the design).
* No module imports a datahealth module inside a function (the usual way to dodge a cycle), except
  the command line: `datahealth.cli.*` imports heavy modules lazily so `datahealth --help` starts fast.
* Engine-specific branching (`if dialect == "postgresql"`) lives in `datahealth/engines/`, one module
  per engine.
* No committed file refers to this machine's paths or to files outside the repository.
"""

from __future__ import annotations

import ast
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = "datahealth"
LAZY_IMPORTS_ALLOWED = ("datahealth.cli",)
ENGINES_PACKAGE = "datahealth.engines"
ENGINE_NAMES = {
    "bigquery",
    "clickhouse",
    "databricks",
    "duckdb",
    "mariadb",
    "mssql",
    "mysql",
    "oracle",
    "postgres",
    "postgresql",
    "redshift",
    "snowflake",
    "sqlite",
    "trino",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the datahealth module imported
    line: int
    in_function: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved against `module`)."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, nested)


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import of a datahealth module in `path`; `from pkg import sub` counts as importing `pkg.sub`."""
    found = []
    for node, in_function in _walk(ast.parse(path.read_text(), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                while target not in known and "." in target:  # `import datahealth.x.y as z` of a name
                    target = target.rpartition(".")[0]
                found.append(Import(module, target, node.lineno, in_function))
    return found


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    modules = package_modules()
    assert len(modules) > 50, sorted(modules)
    return [i for module, path in modules.items() for i in imports_of(module, path, set(modules))]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_among_datahealth_modules(imports: list[Import]) -> None:
    edges: dict[str, set[str]] = {}
    for found in imports:
        if not found.in_function:
            edges.setdefault(found.module, set()).add(found.target)
    assert sum(len(targets) for targets in edges.values()) > 100  # the graph really was read
    assert cycles(edges) == []


def test_the_cycle_finder_finds_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert cycles(edges) == [["a", "b", "c"], ["d"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_function_level_imports_of_datahealth_outside_the_cli(imports: list[Import]) -> None:
    lazy = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in imports
        if i.in_function and not i.module.startswith(LAZY_IMPORTS_ALLOWED)
    ]
    assert lazy == []


def test_the_import_reader_sees_lazy_imports_and_type_checking_blocks(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from datahealth.store import HistoryStore\n"
        "def f():\n    from datahealth.core import results\n"
        "from . import sibling\n"
    )
    path = tmp_path / "module.py"
    path.write_text(source)
    known = {"datahealth.store", "datahealth.core", "datahealth.core.results", "datahealth.x.sibling"}
    found = {(i.target, i.in_function) for i in imports_of("datahealth.x.module", path, known)}
    assert found == {
        ("datahealth.store", False),
        ("datahealth.core.results", True),
        ("datahealth.x.sibling", False),
    }


def engine_branches(path: Path) -> list[str]:
    """Comparisons with an engine's name (`dialect == "duckdb"`, `backend in ("sqlite", ...)`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Compare):
            continue
        for operand in (node.left, *node.comparators):
            constants = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            names = {c.value for c in constants if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            if names & ENGINE_NAMES:
                shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
                found.append(f"{shown}:{node.lineno}: {ast.unparse(node)}")
                break
    return sorted(found, key=lambda branch: int(branch.split(":")[1]))


def test_the_engine_branch_reader_finds_comparisons(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text(
        'if dialect == "postgresql":\n    pass\nok = kind in ("sql", "lake")\nx = b in {"sqlite"}\n'
    )
    assert engine_branches(path) == ["sample.py:1: dialect == 'postgresql'", "sample.py:4: b in {'sqlite'}"]


def test_engine_specific_branching_lives_in_engines() -> None:
    found = [
        branch
        for module, path in package_modules().items()
        if not (module == ENGINES_PACKAGE or module.startswith(ENGINES_PACKAGE + "."))
        for branch in engine_branches(path)
    ]
    assert found == []


def committed_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [REPO / name for name in listed.split("\0") if name]


# spelled in pieces so that this file does not match itself
FORBIDDEN_REFERENCES = ("/" + "work/", "../" + "shared", "/tmp/" + "bash_jobs")


def test_no_committed_file_refers_to_machine_paths_or_outside_the_repository() -> None:
    files = committed_files()
    assert len(files) > 100 and REPO / "pyproject.toml" in files
    offenders = []
    for path in files:
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue  # binary
        for line_number, line in enumerate(text.splitlines(), 1):
            for reference in FORBIDDEN_REFERENCES:
                if reference in line:
                    offenders.append(f"{path.relative_to(REPO)}:{line_number}: {reference}")
    assert offenders == []
