"""What a flow run covers and does: tier-aware dataset selection, shards and the stages a tier asks for.

Kept free of Prefect so the CLI's `--no-prefect` path, the deployment generator and the flow agree on
the same answer. A tier covers the datasets whose `tier:` names it plus those matching its `datasets:`
patterns (`['*']` turns a metadata-only tier into a sweep over everything).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from datahealth.config.models import DatasetConfig, Project, TierConfig
from datahealth.core.run import RunOptions
from datahealth.monitor.selection import SelectionError, select_datasets


def tier_config(project: Project, tier: str | None) -> TierConfig | None:
    """The tier's settings, or a clear error naming the tiers that exist."""
    if tier is None:
        return None
    try:
        return project.config.tiers[tier]
    except KeyError:
        known = ", ".join(sorted(project.config.tiers)) or "none"
        raise SelectionError(f"unknown tier {tier!r}; tiers in sla_config: {known}") from None


def select_for_run(
    project: Project, patterns: Sequence[str] | None = None, tier: str | None = None
) -> list[DatasetConfig]:
    """Datasets matching `patterns` (all when none) that belong to `tier` (any when None)."""
    config = tier_config(project, tier)
    if config is None or not config.datasets:
        return select_datasets(project, patterns, tier)
    chosen = [
        d
        for d in select_datasets(project, patterns, None)
        if d.tier == tier or any(fnmatch.fnmatchcase(d.name, p) for p in config.datasets)
    ]
    if not chosen:
        wanted = " ".join(patterns or ["*"])
        raise SelectionError(
            f"no dataset matches {wanted} in tier {tier!r} (tier patterns: {config.datasets})"
        )
    return chosen


def shard_datasets(datasets: Sequence[DatasetConfig], shard: int = 0, shards: int = 1) -> list[DatasetConfig]:
    """Shard `shard` of `shards`: every dataset lands in exactly one shard, whatever process computes it.

    Round-robin over the sorted names keeps shards balanced (within one dataset) and needs no
    coordination: workers with the same config compute the same split.
    """
    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"shard must be between 0 and shards-1 (got shard={shard}, shards={shards})")
    ordered = sorted(datasets, key=lambda d: d.name)
    return [d for i, d in enumerate(ordered) if i % shards == shard]


def run_options(project: Project, tier: str | None, publish: bool = True) -> RunOptions:
    """The stages a tier asks for; without a tier everything runs and publishing follows `publish`."""
    config = tier_config(project, tier)
    if config is None:
        return RunOptions(publish=publish, report=publish)
    report = publish and config.report
    email = report and bool(config.email)
    return RunOptions(
        profile=config.profile, checks=config.checks, publish=publish, report=report, email=email
    )
