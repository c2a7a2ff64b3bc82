"""Any other SQLAlchemy dialect: ANSI SQL only, so whatever the driver is, the queries are standard.

The catalog comes from `information_schema.columns` (no row estimates), profiles use the plain ANSI
aggregates of `ProfileSql`, samples are `TABLESAMPLE BERNOULLI (p)` (a row-count sample is a
configuration error), and time limits are the driver's own. There is no Soda data source, so checks
report `ChecksNotSupported`. A dedicated module replaces this fallback for an engine as soon as it has
one (see docs/engines.md, "Adding an engine").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.values import SampleSpec
from datahealth.engines.base import PERCENT, EngineCapabilities, SqlEngine
from datahealth.engines.sampling import SAMPLE_ALIAS, SampledRelation, as_from, literal

CATALOG = sa.text(
    """
    SELECT table_name, column_name, data_type, is_nullable = 'YES' AS nullable,
           NULL AS estimated_rows, 'r' AS kind
    FROM information_schema.columns
    WHERE table_schema = :schema AND table_name IN :tables
    ORDER BY table_name, ordinal_position
    """
).bindparams(sa.bindparam("tables", expanding=True))


class AnsiEngine(SqlEngine):
    name = "ansi"
    title = "other databases (ANSI SQL)"
    capabilities = EngineCapabilities(
        default_schema=None,
        metadata_row_counts=False,
        metadata_freshness=False,
        read_only_sessions=False,
        timeout_method="none",
        max_select_entries=1000,
        sample_native=frozenset({PERCENT}),
    )

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        return CATALOG, {"schema": schema, "tables": list(tables)}

    def native_sample(
        self,
        relation: FromClause | TextClause,
        spec: SampleSpec,
        where: ColumnElement[Any] | None,
        *,
        relation_kind: str,
        seed: int,
    ) -> SampledRelation | None:
        method = sa.func.bernoulli(literal(spec.percent))
        sampled = sa.tablesample(as_from(relation), method, name=SAMPLE_ALIAS)
        return SampledRelation(sampled, where, "tablesample bernoulli", True)


ENGINE = AnsiEngine()
