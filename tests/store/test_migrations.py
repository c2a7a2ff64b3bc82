"""The migrated history store is exactly what `store/tables.py` describes, on SQLite and on PostgreSQL.

Alembic's `compare_metadata` diffs the migrated database against the models: tables, columns, types,
nullability, server defaults and indexes. Any change to the models without a migration (or the other
way round) fails here. Migrations also go down and up again, and a store created at 0001 with data in it
is brought to the newest revision when opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from datahealth.core.results import CheckOutcome, CheckResult, DatasetResult, Observation, Status
from datahealth.store import HistoryStore, migrate, read
from datahealth.store.engine import create_history_engine, resolve_history_url
from datahealth.store.tables import metadata

T0 = datetime(2026, 10, 1, 7, tzinfo=UTC)


@pytest.fixture
def store(history_url: str, tmp_path: Path) -> Iterator[HistoryStore]:
    opened = HistoryStore.open(history_url, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def schema_differences(engine: sa.Engine, models: sa.MetaData = metadata) -> list[Any]:
    """What the migrated database lacks or has beyond `models` (empty: they match)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, models))


def flatten(differences: list[Any]) -> list[tuple[Any, ...]]:
    """Column changes come grouped per column (a list of tuples); everything else is one tuple."""
    return [d for group in differences for d in (group if isinstance(group, list) else [group])]


def to_revision(engine: sa.Engine, revision: str, *, down: bool = False) -> None:
    config = migrate.alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def test_the_migrated_store_matches_the_models(store: HistoryStore) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert schema_differences(store.engine) == []


def test_a_model_change_without_a_migration_is_caught(store: HistoryStore) -> None:
    """The comparison is not vacuous: an index, a type, a nullability and a default change each show up."""
    changed = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    runs = changed.tables["runs"]
    sa.Index("ix_runs_tier", runs.c.tier)
    runs.c.tier.type = sa.String(128)
    runs.c.tier.nullable = False
    runs.c.datasets_total.server_default = sa.DefaultClause("5")
    kinds = {change[0] for change in flatten(schema_differences(store.engine, changed))}
    assert kinds == {"add_index", "modify_type", "modify_nullable", "modify_default"}


def test_every_foreign_key_is_backed_by_an_index(store: HistoryStore) -> None:
    """Deleting a parent row (retention) looks for its children by the referencing column."""
    inspector = sa.inspect(store.engine)
    unbacked = []
    for table in metadata.sorted_tables:
        leading = [tuple(i["column_names"]) for i in inspector.get_indexes(table.name)]
        leading += [tuple(u["column_names"]) for u in inspector.get_unique_constraints(table.name)]
        for fk in inspector.get_foreign_keys(table.name):
            columns = tuple(fk["constrained_columns"])
            if not any(index[: len(columns)] == columns for index in leading):
                unbacked.append(f"{table.name}{columns}")
    assert unbacked == []


def test_migrations_go_down_and_up_again(store: HistoryStore) -> None:
    to_revision(store.engine, "0001", down=True)
    indexes = {i["name"] for i in sa.inspect(store.engine).get_indexes("incident_events")}
    assert indexes == {"ix_incident_events_incident"}
    to_revision(store.engine, "head")
    assert schema_differences(store.engine) == []


def test_a_store_made_at_0001_with_history_is_upgraded_when_opened(history_url: str, tmp_path: Path) -> None:
    engine = create_history_engine(resolve_history_url(history_url, tmp_path))
    try:
        to_revision(engine, "0001")
        old = HistoryStore(engine)  # written as a 0001 store, before any upgrade
        run_id = old.start_run(T0)
        observation = Observation("wh.orders", "wh", T0, T0, row_count=5)
        old.record_dataset_result(run_id, DatasetResult(observation), Status.OK)
        assert migrate.current_revision(engine) == "0001"
    finally:
        engine.dispose()
    upgraded = HistoryStore.open(history_url, tmp_path)
    try:
        assert migrate.current_revision(upgraded.engine) == migrate.head_revision()
        assert schema_differences(upgraded.engine) == []
        assert read.latest_observations(upgraded)["wh.orders"].row_count == 5
    finally:
        upgraded.close()


def test_status_error_becomes_unknown_and_nothing_else_is_lost(history_url: str, tmp_path: Path) -> None:
    """0003 renames the dataset status word; nothing else is touched."""
    engine = create_history_engine(resolve_history_url(history_url, tmp_path))
    try:
        to_revision(engine, "0002")
        old = HistoryStore(engine)
        run_id = old.start_run(T0)
        check = CheckResult("wh.orders", "id.missing", "missing", CheckOutcome.ERROR, column="id")
        broken = DatasetResult(
            Observation("wh.orders", "wh", T0, T0, error="cannot reach wh"), checks=[check]
        )
        old.record_dataset_result(run_id, broken, Status.OK)
        with engine.begin() as conn:  # what a 0002 store held for a dataset it could not observe
            conn.execute(sa.text("UPDATE observations SET status = 'error'"))
    finally:
        engine.dispose()
    upgraded = HistoryStore.open(history_url, tmp_path)
    try:
        assert read.latest_observations(upgraded)["wh.orders"].status == Status.UNKNOWN
        with upgraded.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM check_results")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT status FROM observations")).scalar_one() == "unknown"
        to_revision(upgraded.engine, "0002", down=True)
        with upgraded.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT status FROM observations")).scalar_one() == "error"
            assert conn.execute(sa.text("SELECT count(*) FROM check_results")).scalar_one() == 1
    finally:
        upgraded.close()
