"""Every file under `checks/` that a run would read (or silently skip), checked before any run.

A run reads `checks/<source>/<dataset>.yml` for each configured dataset and nothing else, so a contract
for a dataset that does not exist, a `.yaml` twin, or a typo inside a contract would pass unnoticed until
the checks errored. `datahealth validate` calls `contract_file_issues` and reports them all at once.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from datahealth.checks.contract_schema import contract_schema_issues
from datahealth.checks.contracts import ContractError, load_user_contract
from datahealth.config.errors import ConfigIssue
from datahealth.config.models import Project

CHECKS_DIR = "checks"
_YAML_SUFFIXES = (".yml", ".yaml")


def contract_file_issues(project: Project) -> list[ConfigIssue]:
    """Problems of every YAML file under `checks/`: where it is, whether its dataset exists, its content."""
    root = project.root / CHECKS_DIR
    if not root.is_dir():
        return []
    issues: list[ConfigIssue] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _YAML_SUFFIXES):
        display = _display(path, project.root)
        placement = _placement_issue(project, path, display)
        if placement is not None:
            issues.append(placement)
            continue
        try:
            document = load_user_contract(path, str(display))
        except ContractError as exc:
            issues.append(_contract_error_issue(exc, display))
            continue
        issues.extend(contract_schema_issues(document, display))
    return issues


def _contract_error_issue(exc: ContractError, display: Path) -> ConfigIssue:
    """`checks/a/b.yml line 3: invalid YAML: ...` as an issue with its line."""
    match = _LINE.match(str(exc).removeprefix(str(display)))
    line, message = (int(match.group(1)), match.group(2)) if match else (None, str(exc))
    return ConfigIssue(display, "", message, "fix the contract's YAML", line)


_LINE = re.compile(r"^ line (\d+): (.*)$", re.DOTALL)


def _placement_issue(project: Project, path: Path, display: Path) -> ConfigIssue | None:
    """A file the run would never read: wrong suffix, wrong folder, or no such dataset."""
    relative = path.relative_to(project.root / CHECKS_DIR)
    if len(relative.parts) != 2:
        return ConfigIssue(
            display,
            "",
            "this contract is never read (contracts live at checks/<source>/<dataset>.yml)",
            "move it into the folder of its source",
        )
    dataset = f"{relative.parts[0]}.{path.stem}"
    known = sorted(project.config.datasets)
    if dataset not in project.config.datasets:
        close = difflib.get_close_matches(dataset, known, n=1)
        hint = f"did you mean checks/{close[0].replace('.', '/', 1)}.yml? " if close else ""
        return ConfigIssue(
            display,
            "",
            f"no dataset '{dataset}' in sla_config, so this contract is never run",
            f"{hint}rename the file, or add '{dataset}' under datasets:",
        )
    if path.suffix != ".yml":
        return ConfigIssue(
            display,
            "",
            f"contracts end in .yml; this file is never read for {dataset}",
            f"rename it to {path.stem}.yml",
        )
    return None


def _display(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path
