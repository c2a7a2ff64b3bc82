"""The one interface every database engine implements, and the capabilities it declares.

Everything datahealth knows about one engine lives in that engine's module (`postgres.py`, `duckdb.py`,
`sqlite.py`, and `ansi.py` for any other SQLAlchemy dialect): how to connect read-only with a time
limit, how to read the catalog for a whole schema at once, how to sample natively, how to stop a
statement, which SQL computes a profile, which column types mean what, how driver errors read, and how
Soda reaches it. The rest of datahealth asks the engine (`datahealth.engines.for_url`) and branches on
its declared `EngineCapabilities`, never on its name.

The shape follows dlt's destination capabilities (a frozen record of facts) and sqlmesh's engine
adapters (a base class, small mixins for behaviour several engines share, one class per engine).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.core.errors import DatasetError
from datahealth.core.results import ColumnInfo, ErrorKind, TableMeta, as_utc
from datahealth.engines.cancel import Watch
from datahealth.engines.errors import ErrorHints
from datahealth.engines.profile_sql import ProfileSql
from datahealth.engines.sampling import SampledRelation, random_sample
from datahealth.engines.soda_types import ansi_soda_data_type
from datahealth.engines.types import ColumnKind, ansi_column_kind

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

SampleKind = Literal["percent", "rows"]
TimeoutMethod = Literal["statement_timeout", "interrupt", "none"]
PERCENT: SampleKind = "percent"
ROWS: SampleKind = "rows"

_RELATION_KINDS = {
    "r": "table",
    "p": "table",
    "t": "table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


@dataclass(frozen=True)
class EngineCapabilities:
    """What an engine can do, declared once. Callers branch on these facts, never on the engine's name.

    docs/engines.md shows them per engine, and the conformance suite (tests/engines) holds every engine
    to what it declares.
    """

    default_schema: str | None
    """The schema of an unqualified table name; None: ask the database (SQLAlchemy's inspector)."""
    metadata_row_counts: bool
    """The catalog query returns a row estimate, so `row_count: estimate` needs no scan."""
    metadata_freshness: bool
    """The catalog knows when a table last changed, so freshness needs no scan."""
    read_only_sessions: bool
    """Source connections refuse writes (read-only transactions or a read-only file handle)."""
    timeout_method: TimeoutMethod
    """How a statement is stopped at its time limit: a server-side `statement_timeout`, a watchdog calling
    the driver's `interrupt()`, or `none` (the driver's own limits only)."""
    max_select_entries: int | None
    """How many select-list entries one statement may carry (None: no practical limit)."""
    profile_columns_per_group: int | None = None
    """The profile's aggregate layout, measured per engine (bench/profile.py): None = one wide aggregate
    over every column; n = one aggregate per n columns, cross-joined into the same single statement."""
    approx_distinct: bool = False
    """A distinct-count sketch (HyperLogLog) that is cheaper than `count(DISTINCT)` on large tables."""
    quantiles: bool = False
    """Cheap approximate quantiles (a t-digest) in an aggregate query."""
    has_nan: bool = False
    """Floating-point columns can hold NaN (SQLite stores NaN as NULL)."""
    sample_native: frozenset[SampleKind] = frozenset()
    """Sample kinds the engine draws itself (TABLESAMPLE): the scan really skips rows, repeatably."""
    sample_emulated: frozenset[SampleKind] = frozenset()
    """Sample kinds drawn with `random()` where no native sampling applies (not repeatable)."""
    snapshot_isolation: str | None = None
    """Isolation level that gives several statements of one profile the same snapshot."""
    soda_plugin: str | None = None
    """The soda-core plugin package that runs contracts on this engine; None: checks are not supported."""
    advisory_locks: bool = False
    """Transaction-scoped locks across processes (used to migrate a shared history store once)."""
    batch_alter_table: bool = False
    """ALTER TABLE cannot change columns in place: migrations copy the table (Alembic batch mode)."""
    sample_blocks: bool = False
    """Native percentage samples draw whole storage blocks (BigQuery `TABLESAMPLE SYSTEM`): a table smaller
    than a block comes back whole or empty, never as a fraction of its rows."""
    qualified_names: bool = False
    """Data queries must name the schema (dataset): an unqualified table is qualified with the default."""
    bytes_billed_limit: bool = False
    """Scans are billed by bytes and refused by the engine above the source's `maximum_bytes_billed`."""


@dataclass
class EngineOptions:
    """Arguments for `sqlalchemy.create_engine`: the DBAPI `connect_args` and the engine keywords."""

    connect_args: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)


class ConnectedSource(Protocol):
    """What an engine needs from a source to hand its connection to Soda (satisfied by `SqlSource`)."""

    name: str
    url: URL
    config: SqlSourceConfig

    @property
    def engine(self) -> Engine: ...


class SqlEngine(ABC):
    """One database engine reached through SQLAlchemy. Stateless: one instance per engine module."""

    name: ClassVar[str]
    """SQLAlchemy's backend name (`postgresql`, `duckdb`, `sqlite`), or `ansi` for the fallback."""
    title: ClassVar[str]
    """How docs and messages name the engine."""
    capabilities: EngineCapabilities
    profile_sql: ClassVar[ProfileSql] = ProfileSql()
    """The profile's aggregate expressions (an engine-specific subclass where the engine has better ones)."""
    error_hints: ClassVar[ErrorHints] = {}
    """Phrases only this engine's driver uses, per error kind (the shared ones are in `engines.errors`)."""
    random_draw: ClassVar[tuple[str, int]] = ("random()", 1)
    """SQL drawing a uniform number in [0, scale) per row, and the scale, for emulated percentage samples."""
    soda_modules: ClassVar[tuple[str, ...]] = ()
    """Modules of the Soda plugin to import once, after soda_core (see `checks.soda_env`)."""

    # --- connections ---------------------------------------------------------------------------

    def resolve_url(self, url: URL, project_root: Path) -> URL:
        """The source URL as it is opened (file databases: a relative path is relative to the project)."""
        return url

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        """Read-only sessions, statement timeout and application name, where the driver takes them."""
        return EngineOptions(dict(config.connect_args))

    def create_engine(self, url: URL, config: SqlSourceConfig) -> Engine:
        """An engine for a monitored source (raises SourceUnavailable for a missing database file)."""
        options = self.engine_options(url, config)
        return sa.create_engine(url, connect_args=options.connect_args, **options.kwargs)

    # --- catalog and metadata ------------------------------------------------------------------

    def default_schema(self, engine: Engine) -> str:
        """The schema unqualified table names live in; asks the database only when not declared."""
        if self.capabilities.default_schema:
            return self.capabilities.default_schema
        with engine.connect() as conn:
            return str(sa.inspect(conn).default_schema_name or "")

    @abstractmethod
    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        """ONE query describing `tables` of `schema`, with their parameters.

        Columns: table_name, column_name, data_type, nullable, estimated_rows (NULL where the engine has
        no estimate) and kind (`r` table, `v` view, `m` materialized view, `f` foreign table), ordered by
        table and column position. Names are bound parameters, never SQL text.
        """

    def read_catalog(self, conn: sa.Connection, schema: str, tables: Sequence[str]) -> dict[str, TableMeta]:
        """Run the catalog query and group its rows into one `TableMeta` per table found.

        Engines whose catalog records when a table last changed (`metadata_freshness`) add a
        `last_modified` column; it lands in `TableMeta.details` as an ISO timestamp (UTC).
        """
        query, params = self.catalog_query(schema, tables)
        columns: dict[str, list[ColumnInfo]] = defaultdict(list)
        estimates: dict[str, int | None] = {}
        kinds: dict[str, str] = {}
        details: dict[str, dict[str, Any]] = defaultdict(dict)
        for row in conn.execute(query, params).mappings():
            table = self.normalize_name(row["table_name"])
            nullable = row["nullable"]
            columns[table].append(
                ColumnInfo(
                    self.normalize_name(row["column_name"]),
                    str(row["data_type"]).lower(),
                    None if nullable is None else bool(nullable),
                )
            )
            estimate = row["estimated_rows"]
            estimates[table] = int(estimate) if estimate is not None and int(estimate) >= 0 else None
            kinds[table] = _RELATION_KINDS.get(str(row["kind"]), "table")
            modified = last_modified(row.get("last_modified"))
            if modified is not None:
                details[table]["last_modified"] = modified.isoformat()
        return {
            t: TableMeta(tuple(cols), estimates.get(t), kinds.get(t, "table"), dict(details.get(t, {})))
            for t, cols in columns.items()
        }

    def normalize_name(self, name: str) -> str:
        """A name as the catalog stores it → as people write it in config (Snowflake: `ORDERS` → `orders`)."""
        return name

    def denormalize_name(self, name: str) -> str:
        """A name from config → as the database stores it, to be quoted exactly (Snowflake: `orders` → `ORDERS`)."""
        return name

    def metadata_last_modified(self, meta: TableMeta) -> datetime | None:
        """When the catalog says the table last changed (None where the engine does not record it)."""
        if not self.capabilities.metadata_freshness:
            return None
        return last_modified(meta.details.get("last_modified"))

    # --- profiling -----------------------------------------------------------------------------

    def column_kind(self, data_type: str) -> ColumnKind:
        """The kind of a column (which statistics make sense) from the catalog's type name."""
        return ansi_column_kind(data_type)

    def sample(
        self,
        relation: FromClause | TextClause,
        spec: SampleSpec,
        where: ColumnElement[Any] | None,
        *,
        relation_kind: str,
        seed: int,
    ) -> SampledRelation:
        """Apply `spec` natively where declared and applicable, else by `random()`; `where` stays once."""
        kind = ROWS if spec.rows is not None else PERCENT
        if kind in self.capabilities.sample_native:
            native = self.native_sample(relation, spec, where, relation_kind=relation_kind, seed=seed)
            if native is not None:
                return native
        if kind in self.capabilities.sample_emulated:
            draw, scale = self.random_draw
            return random_sample(relation, spec, where, draw, scale)
        raise DatasetError(
            f"row-count samples are not supported on {self.title}; use a percentage such as '10%'"
            if kind == ROWS
            else f"percentage samples are not supported on {self.title}; use a row count such as 10000",
            ErrorKind.CONFIG,
        )

    def native_sample(
        self,
        relation: FromClause | TextClause,
        spec: SampleSpec,
        where: ColumnElement[Any] | None,
        *,
        relation_kind: str,
        seed: int,
    ) -> SampledRelation | None:
        """The engine's own sampling of `relation`, or None where it does not apply (e.g. a view)."""
        return None

    @contextlib.contextmanager
    def time_limit(self, conn: sa.Connection, seconds: float | None) -> Iterator[Watch]:
        """Stop statements on `conn` inside the block after `seconds` (`capabilities.timeout_method`)."""
        yield Watch(None)

    # --- checks (Soda) -------------------------------------------------------------------------

    def soda_prefixes(self, url: URL) -> list[str]:
        """Parts of a Soda qualified name before the schema (PostgreSQL: the database)."""
        return []

    def url_schema(self, url: URL) -> str | None:
        """The schema a URL names for unqualified tables, where the URL names one (BigQuery's dataset)."""
        return None

    @contextlib.contextmanager
    def soda_data_source(self, data_source: str, source: ConnectedSource) -> Iterator[DataSourceImpl]:
        """A Soda data source named `data_source` on `source`, closed afterwards (engines with a plugin)."""
        raise NotImplementedError(f"{self.title} has no Soda data source")
        yield  # pragma: no cover

    def soda_data_type(self, column: ColumnInfo) -> dict[str, Any]:
        """The `data_type` keys a generated schema check expects for `column` (the Soda type map)."""
        return ansi_soda_data_type(column)

    # --- history store -------------------------------------------------------------------------

    def resolve_store_url(self, url: URL, project_root: Path) -> URL:
        """The history store URL as it is opened (file databases: relative path, directory created)."""
        return url

    def store_engine_options(self, url: URL) -> EngineOptions:
        """`create_engine` arguments for the history store, which several threads write to."""
        return EngineOptions(kwargs={"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5})

    def prepare_store_connection(self, dbapi_connection: Any, url: URL) -> None:
        """Settings for every new history-store connection (SQLite: busy timeout, WAL, foreign keys).

        Server databases need none: their sessions start with the settings the store relies on.
        """
        return None

    def migration_lock(self, url: URL) -> contextlib.AbstractContextManager[None]:
        """Held while the history store is migrated, around the transaction (a file lock for file stores).

        Server databases need none: `lock_transaction` takes an advisory lock inside the transaction.
        """
        return contextlib.nullcontext()

    def lock_transaction(self, conn: sa.Connection, key: int) -> None:
        """Hold a lock named `key` until `conn`'s transaction ends, across processes where the engine can.

        Without advisory locks there is nothing to take: SQLite's own write lock serialises writers.
        """
        return None


def last_modified(value: Any) -> datetime | None:
    """A catalog's last-modified value (datetime, ISO text or epoch seconds; naive = UTC) as aware UTC.

    The Unix epoch itself counts as unknown: catalogs (and stand-ins) report it for "never".
    """
    if value is None:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):  # seconds since the epoch
        value = datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    aware = as_utc(value)
    return None if aware is None or aware.timestamp() <= 0 else aware
