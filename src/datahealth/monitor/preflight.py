"""`datahealth validate --connect`: reach every source and confirm each dataset's table and columns exist.

It asks exactly what a run's first step asks (`Source.describe`, one catalog query per schema) and
compares the catalog with sla_config, so a renamed table, a timestamp column that does not exist or an
unreachable warehouse is found before the first scheduled run rather than by it. Every problem of every
source is collected; nothing stops at the first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from datahealth.config.models import DatasetConfig, Project
from datahealth.core.errors import DatasetError, SourceUnavailable
from datahealth.core.redaction import redact
from datahealth.core.results import TableMeta
from datahealth.sources import open_source


@dataclass(frozen=True)
class ConnectIssue:
    """One problem found against a live source: which dataset (or source), which key, what is wrong."""

    subject: str
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        key = f" [{self.key}]" if self.key else ""
        return redact(f"{self.subject}{key}: {self.message}. Fix: {self.fix}")


def connection_issues(project: Project) -> list[ConnectIssue]:
    """Every dataset whose source is unreachable, whose table is missing, or whose columns do not exist."""
    by_source: dict[str, list[DatasetConfig]] = defaultdict(list)
    for dataset in project.datasets:
        by_source[dataset.source].append(dataset)
    issues: list[ConnectIssue] = []
    for source_name, datasets in sorted(by_source.items()):
        issues.extend(_source_issues(project, source_name, datasets))
    return issues


def _source_issues(project: Project, source_name: str, datasets: list[DatasetConfig]) -> list[ConnectIssue]:
    source = open_source(source_name, project.config.sources[source_name], project.root)
    try:
        try:
            described = source.describe(datasets)
        except DatasetError as exc:
            described = {d.name: exc for d in datasets}
    finally:
        source.close()
    unreachable = {str(e) for e in described.values() if isinstance(e, SourceUnavailable)}
    if unreachable:  # one line for the source, not one per dataset
        return [
            ConnectIssue(
                f"sources.{source_name}",
                "",
                message,
                "check the URL, the network and the credentials (environment variables)",
            )
            for message in sorted(unreachable)
        ]
    issues: list[ConnectIssue] = []
    for dataset in datasets:
        meta = described.get(dataset.name)
        if isinstance(meta, DatasetError):
            issues.append(ConnectIssue(dataset.name, _where_key(dataset), str(meta), _where_fix(dataset)))
        elif isinstance(meta, TableMeta):
            issues.extend(_column_issues(dataset, meta))
    return issues


def _where_key(dataset: DatasetConfig) -> str:
    if dataset.path:
        return "path"
    if dataset.topic is not None or dataset.consumer_group is not None:
        return "topic"
    return "table"


def _where_fix(dataset: DatasetConfig) -> str:
    key = _where_key(dataset)
    return f"set datasets.{dataset.name}.{key} to an existing {key}, or grant the monitoring user access"


def _column_issues(dataset: DatasetConfig, meta: TableMeta) -> list[ConnectIssue]:
    """The configured columns the catalog does not list (streams and files without a schema list none)."""
    if not meta.columns:
        return []
    names = {c.name for c in meta.columns}  # exact, as measure() and the checks compare them
    wanted: list[tuple[str, str]] = []
    if dataset.timestamp_column:
        wanted.append(("timestamp_column", dataset.timestamp_column))
    wanted.extend(("primary_key", column) for column in dataset.primary_key)
    wanted.extend(("required_columns", column) for column in dataset.required_columns)
    listing = ", ".join(sorted(names))
    return [
        ConnectIssue(
            dataset.name,
            key,
            f"column '{column}' does not exist (columns: {listing})",
            f"name an existing column in datasets.{dataset.name}.{key}",
        )
        for key, column in wanted
        if column not in names
    ]
