"""The real Soda engine on the real PostgreSQL: generated checks from history, broad column types, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.config.models import Project
from datahealth.core.results import CheckOutcome
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore
from tests.checks.conftest import AS_OF, check_dataset
from tests.support import postgres
from tests.support.ports import free_port
from tests.support.projects import write_checks, write_project

# Every column type family our catalog and Soda's must agree on, or a generated schema check would fail forever.
WIDE_TABLE = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE shop.wide (
  id bigint PRIMARY KEY, a integer, sm smallint, d numeric(12,2), n numeric, r real, f double precision,
  s varchar(255), s2 varchar, tx text, c char(3), b boolean, dt date, t time, ts timestamp, ts3 timestamp(3),
  tz timestamptz, iv interval, j jsonb, u uuid, arr integer[], m mood, "Mixed Case" text
);
INSERT INTO shop.wide (id, a, s, m, "Mixed Case") VALUES (1, 1, 'x', 'ok', 'y'), (2, 2, 'z', 'sad', NULL);
"""


@pytest.fixture
def pg_project(pg_database: str, tmp_path: Path) -> Project:
    postgres.execute(
        pg_database,
        "CREATE SCHEMA shop",
        WIDE_TABLE,
        "CREATE TABLE shop.orders (id bigint, email text, status text, amount numeric(10,2), created_at timestamp)",
        "INSERT INTO shop.orders VALUES (1,'a@x.io','paid',10,'2026-01-01 10:00'), (2,'b@x.io','open',20,"
        "'2026-01-02 11:00'), (2,'b@x.io','open',20,'2026-01-02 11:00'), (3,NULL,'weird',-5,'2026-01-04 11:00')",
    )
    write_project(
        tmp_path,
        sources={"pg": {"kind": "sql", "url": postgres.sqlalchemy_url(pg_database)}},
        datasets={
            "pg.wide": {"table": "shop.wide", "primary_key": ["id"]},
            "pg.orders": {"table": "shop.orders", "primary_key": ["id"], "required_columns": ["email"]},
        },
    )
    return load_project(tmp_path)


def test_checks_fail_and_pass_with_observed_values_on_postgres(pg_project: Project) -> None:
    write_checks(
        pg_project.root,
        "pg.orders",
        """\
columns:
  - name: status
    checks:
      - invalid: {valid_values: [paid, open]}
  - name: amount
    checks:
      - aggregate: {function: avg, threshold: {must_be_between: {greater_than: 0, less_than: 100}}}
checks:
  - freshness: {column: created_at, threshold: {unit: hour, must_be_less_than: 24}}
""",
    )
    results = check_dataset(pg_project, "pg.orders")
    assert {n: (r.outcome.value, r.observed_value) for n, r in results.items()} == {
        "status.invalid": ("fail", 1.0),
        "amount.aggregate": ("pass", 11.25),
        "freshness": ("pass", 13.0),  # naive timestamps are UTC: 2026-01-04 11:00 → 2026-01-05 00:00
        "id.duplicate": ("fail", 1.0),
        "email.missing": ("fail", 1.0),
    }


def test_the_generated_schema_check_accepts_every_type_and_catches_a_retyped_column(
    pg_project: Project, pg_database: str
) -> None:
    options = RunOptions(profile=False, publish=False)
    run_monitor(
        pg_project, ["pg.wide"], as_of="2026-01-05T00:00:00Z", options=options
    )  # first run: the baseline
    store = HistoryStore.open(pg_project.config.history.url, pg_project.root)
    try:
        results = check_dataset(pg_project, "pg.wide", store=store)
        schema = results["schema"]
        assert (schema.outcome, schema.check_type, schema.origin) == (
            CheckOutcome.PASS,
            "schema",
            "generated",
        )
        assert schema.message == "schema as expected"

        postgres.execute(
            pg_database,
            "ALTER TABLE shop.wide ALTER COLUMN d TYPE numeric(14,2)",
            "ALTER TABLE shop.wide ALTER COLUMN s TYPE text",
            "ALTER TABLE shop.wide DROP COLUMN sm",
            "ALTER TABLE shop.wide ADD COLUMN extra integer",
        )
        schema = check_dataset(pg_project, "pg.wide", store=store)["schema"]
    finally:
        store.close()
    assert (schema.outcome, schema.observed_value) == (CheckOutcome.FAIL, 4.0)
    assert schema.details["added"] == ["extra"] and schema.details["removed"] == ["sm"]
    assert schema.details["retyped"] == [
        {"column": "d", "expected": "numeric(12,2)", "actual": "numeric(14,2)"},
        {"column": "s", "expected": "character varying(255)", "actual": "text"},
    ]
    assert schema.message == (
        "added: extra; removed: sm; type changed: d numeric(12,2) -> numeric(14,2), "
        "s character varying(255) -> text"
    )


def test_an_unreachable_database_is_an_error_per_check_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://dh:pg-secret-pw@127.0.0.1:{free_port()}/nowhere"
    write_project(
        tmp_path, sources={"pg": {"kind": "sql", "url": url}}, datasets={"pg.orders": {"primary_key": ["id"]}}
    )
    write_checks(tmp_path, "pg.orders", "columns:\n  - {name: email, checks: [{missing: {}}]}\n")
    project = load_project(tmp_path)
    from datahealth.checks import run_checks
    from datahealth.sources import open_source

    dataset = project.dataset("pg.orders")
    source = open_source("pg", project.config.sources["pg"], project.root)
    results = {r.name: r for r in run_checks(project, dataset, source, AS_OF)}
    source.close()
    # a failed connection is not blamed on the (valid) contract: no "contract" result, no second scan
    assert {n: r.outcome for n, r in results.items()} == {
        "email.missing": CheckOutcome.ERROR,
        "id.duplicate": CheckOutcome.ERROR,
    }
    for result in results.values():
        assert result.message.startswith("not evaluated: Could not connect to 'pg'")
        assert "pg-secret-pw" not in result.message
