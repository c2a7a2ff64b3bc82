"""Which datasets a run covers: glob patterns on `<source>.<dataset>` names and an optional tier."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from datahealth.config.models import DatasetConfig, Project


class SelectionError(ValueError):
    """The selection matched nothing: almost always a typo, so it is an error rather than an empty run."""


def select_datasets(
    project: Project, patterns: Sequence[str] | None = None, tier: str | None = None
) -> list[DatasetConfig]:
    """Datasets whose name matches any of `patterns` (all when none) and that belong to `tier` (any when None).

    A dataset belongs to a tier when its `tier:` names it or when it matches the tier's `datasets:`
    patterns (`['*']` makes a metadata-only tier a sweep over everything)."""
    tier_patterns = (
        (project.config.tiers[tier].datasets or []) if tier and tier in project.config.tiers else []
    )
    chosen = []
    for dataset in project.datasets:
        if patterns and not any(fnmatch.fnmatchcase(dataset.name, p) for p in patterns):
            continue
        in_tier = dataset.tier == tier or any(fnmatch.fnmatchcase(dataset.name, p) for p in tier_patterns)
        if tier and not in_tier:
            continue
        chosen.append(dataset)
    if not chosen:
        wanted = " ".join(patterns or ["*"]) + (f" in tier {tier!r}" if tier else "")
        known = ", ".join(d.name for d in project.datasets) or "none configured"
        raise SelectionError(f"no dataset matches {wanted}; datasets: {known}")
    return chosen
