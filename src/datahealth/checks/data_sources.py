"""Maps a datahealth source to a Soda data source and a dataset to Soda's qualified name.

Users never write connection details into contracts: the data source and the dataset's qualified name
(`<data source>/<prefixes…>/<schema>/<table>`) are derived here from `sla_config/`. How Soda reaches a
SQL source is its engine's business (`SqlEngine.soda_data_source` in `engines/postgres.py` and
`engines/duckdb.py`); an engine without a Soda plugin (SQLite, the ANSI fallback) makes the dataset's
checks `ChecksNotSupported`.

Lake datasets get a private in-memory DuckDB per scan with a VIEW over the Arrow copy of the dataset
that `LakeSource` materialised for the run (so checks never read the store a second time). That stays
here, not in `engines/duckdb.py`: it is knowledge of the lake source, and only the hand-over to Soda is
DuckDB's (`soda_on_connection`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datahealth import engines
from datahealth.checks.soda_env import prepare_soda
from datahealth.config.models import DatasetConfig, LakeSourceConfig, Project, SourceConfig, SqlSourceConfig
from datahealth.core.results import ErrorKind
from datahealth.engines.base import SqlEngine
from datahealth.engines.duckdb import UTC_SESSION
from datahealth.engines.errors import classify
from datahealth.sources import LakeSource, SqlSource
from datahealth.sources.base import DatasetError, Source
from datahealth.sources.sql import resolve_url

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_]")


class ChecksNotSupported(Exception):
    """The dataset's source has no Soda data source (e.g. SQLite, MySQL): its checks cannot run."""


@dataclass(frozen=True)
class SodaTarget:
    """Where Soda finds a dataset: the data source name and the qualified name a contract's `dataset:` holds."""

    data_source: str
    qualified_name: str
    kind: str  # "sql" | "lake"
    engine: SqlEngine  # the lake's is DuckDB
    view_name: str | None = None  # lake only: the VIEW created over the files


def soda_target(project: Project, dataset: DatasetConfig) -> SodaTarget:
    """Derive the Soda data source and qualified dataset name from config alone (no connection)."""
    config = project.config.sources.get(dataset.source)
    if config is None:
        raise ChecksNotSupported(f"source '{dataset.source}' of {dataset.name} is not configured")
    return target_for(dataset.source, config, dataset, project)


def target_for(
    source_name: str, config: SourceConfig, dataset: DatasetConfig, project: Project
) -> SodaTarget:
    data_source = _SAFE_NAME.sub("_", source_name)
    if isinstance(config, LakeSourceConfig):
        view = _SAFE_NAME.sub("_", dataset.short_name)
        return SodaTarget(data_source, f"{data_source}/main/{view}", "lake", engines.DUCKDB, view)
    assert isinstance(config, SqlSourceConfig)
    url = resolve_url(config.url, project.root)
    engine = engines.for_url(url)
    if not engine.capabilities.soda_plugin:
        supported = [e.title for e in engines.with_checks()]
        raise ChecksNotSupported(
            f"checks not supported for this source: {source_name} is {url.get_backend_name()}; Soda checks "
            f"run on {', '.join(supported)} and lake sources"
        )
    schema, table = dataset.schema_and_table
    schema = schema or engine.capabilities.default_schema or engine.url_schema(url) or ""
    parts = [*engine.soda_prefixes(url), schema, table]
    for part in parts:
        if not part or "/" in part or '"' in part:
            raise DatasetError(
                f"{dataset.name}: table reference {dataset.table or dataset.short_name!r} cannot be "
                "checked with Soda (empty part, '/' or '\"' in a name)",
                ErrorKind.CONFIG,
            )
    return SodaTarget(data_source, "/".join([data_source, *parts]), "sql", engine)


@contextmanager
def open_data_source(source: Source, dataset: DatasetConfig, target: SodaTarget) -> Iterator[DataSourceImpl]:
    """A ready Soda data source for one scan of `dataset`; everything it opened is closed afterwards."""

    prepare_soda()
    if target.kind == "lake":
        assert isinstance(source, LakeSource)
        with _lake_data_source(source, dataset, target) as impl:
            yield impl
    else:
        assert isinstance(source, SqlSource)
        with target.engine.soda_data_source(target.data_source, source) as impl:
            yield impl


@contextmanager
def _lake_data_source(
    source: LakeSource, dataset: DatasetConfig, target: SodaTarget
) -> Iterator[DataSourceImpl]:
    import duckdb

    snapshot = source.snapshot_arrow(dataset)  # the run's one read of the dataset, shared with profiles
    connection = duckdb.connect(":memory:", config={"threads": 2})
    try:
        try:
            connection.execute(UTC_SESSION)
            connection.register("lake_snapshot", snapshot)
            connection.sql("SELECT * FROM lake_snapshot").create_view(
                target.view_name or "dataset", replace=True
            )
        except duckdb.Error as exc:
            raise classify(
                exc, f"reading {dataset.name} files for checks failed", engines.DUCKDB.error_hints
            ) from None
        yield engines.DUCKDB.soda_on_connection(connection, target.data_source)
    finally:
        connection.close()
