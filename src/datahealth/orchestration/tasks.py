"""The Prefect tasks: each wraps one `MonitorRun` step so the UI shows a task per source and dataset."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from datahealth.config.models import DatasetConfig
from datahealth.results import DatasetResult, TableMeta
from datahealth.runner import MonitorRun
from datahealth.sources import DatasetError


@task(name="describe", task_run_name="describe {source_name}", cache_policy=NO_CACHE)
def describe_source(run: MonitorRun, source_name: str, datasets: list[DatasetConfig]) -> dict[str, TableMeta | DatasetError]:
    """Read the catalog for all of a source's datasets (one query per schema)."""
    return run.describe(source_name, datasets)


@task(name="observe", task_run_name="observe {dataset.name}", cache_policy=NO_CACHE)
def monitor_dataset(run: MonitorRun, dataset: DatasetConfig, catalog: dict[str, TableMeta | DatasetError]) -> DatasetResult:
    """Observe, profile and check one dataset; data problems come back as results, not exceptions."""
    return run.monitor(dataset, catalog[dataset.name])
