"""Builds throw-away monitoring projects (sla_config/ + checks/) in a temp directory for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def write_project(root: Path, sources: dict[str, Any], datasets: dict[str, Any], **sections: Any) -> Path:
    """Write sla_config/*.yaml under `root`; history defaults to a SQLite file inside `root`."""
    config = root / "sla_config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, sort_keys=False))
    (config / "datasets.yaml").write_text(yaml.safe_dump({"datasets": datasets}, sort_keys=False))
    project = {"history": {"url": f"sqlite:///{root / '.datahealth' / 'history.db'}"}, **sections}
    (config / "project.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return root


def write_checks(root: Path, dataset: str, contract: str) -> Path:
    source, name = dataset.split(".", 1)
    path = root / "checks" / source / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(contract)
    return path
