"""Which datasets a run covers: glob patterns on `<source>.<dataset>` names and an optional tier."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from datahealth.config.models import DatasetConfig, Project


class SelectionError(ValueError):
    """The selection matched nothing: almost always a typo, so it is an error rather than an empty run."""


def select_datasets(project: Project, patterns: Sequence[str] | None = None, tier: str | None = None) -> list[DatasetConfig]:
    """Datasets whose name matches any of `patterns` (all when none) and whose tier is `tier` (any when None)."""
    chosen = []
    for dataset in project.datasets:
        if patterns and not any(fnmatch.fnmatchcase(dataset.name, p) for p in patterns):
            continue
        if tier and dataset.tier != tier:
            continue
        chosen.append(dataset)
    if not chosen:
        wanted = " ".join(patterns or ["*"]) + (f" in tier {tier!r}" if tier else "")
        known = ", ".join(d.name for d in project.datasets) or "none configured"
        raise SelectionError(f"no dataset matches {wanted}; datasets: {known}")
    return chosen
