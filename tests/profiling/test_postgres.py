"""Profiles on the real PostgreSQL, compared statistic by statistic with plain Python."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from datahealth import engines
from datahealth.sources.base import DatasetError
from datahealth.sources.sql import SqlSource
from tests.profiling import data
from tests.profiling.conftest import AS_OF, assert_matches, run_profile
from tests.support import postgres

TABLE = f"public.{data.TABLE}"


def test_every_statistic_matches_python(postgres_source: SqlSource, rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(postgres_source, table=TABLE)
    assert_matches(profile, rows, "postgresql")
    assert (profile.distinct_method, profile.queries, profile.details["timeout_enforcement"]) == (
        "exact",
        1,
        "statement_timeout",
    )


def test_zero_row_table(postgres_source: SqlSource) -> None:
    assert_matches(run_profile(postgres_source, table="public.empty"), [], "postgresql")


def test_window(postgres_source: SqlSource, rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(postgres_source, table=TABLE, window="1d")
    assert_matches(profile, data.in_window(rows), "postgresql")
    assert profile.window_end == AS_OF


def test_window_on_a_timestamptz_column(
    postgres_source: SqlSource, pg_database: str, rows: list[tuple[Any, ...]]
) -> None:
    """Instants are compared as instants: the session time zone (New York here) must not shift the window."""
    aware = f"""CREATE TABLE aware AS SELECT ("ts" AT TIME ZONE 'UTC') AS ts, "n_rows" FROM {data.quote(data.TABLE)}"""  # noqa: S608
    postgres.execute(
        pg_database, f"ALTER DATABASE \"{pg_database}\" SET timezone = 'America/New_York'", aware
    )
    stamps = [r[data.NAMES.index("ts")] for r in rows]
    expected = sum(1 for t in stamps if t is not None and data.WINDOW_START < t <= data.WINDOW_END)
    shifted = sum(
        1 for t in stamps if t is not None and data.WINDOW_START < t - timedelta(hours=5) <= data.WINDOW_END
    )
    assert expected != shifted  # the data can tell a correct window from one read in local time
    profile = run_profile(postgres_source, table="public.aware", window="1d")
    with postgres_source.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW timezone").scalar() == "America/New_York"
    assert profile.row_count == expected
    assert profile.columns[0].data_type == "timestamp with time zone"


def test_samples(postgres_source: SqlSource) -> None:
    percent = run_profile(postgres_source, table=TABLE, sample="50%")
    assert (percent.sampled, percent.sample, percent.details["sample_method"]) == (
        True,
        "50%",
        "tablesample bernoulli",
    )
    assert 100 < percent.row_count < 300
    rows_sample = run_profile(postgres_source, table=TABLE, sample=25)
    assert (rows_sample.sample, rows_sample.row_count, rows_sample.details["sample_method"]) == (
        "25 rows",
        25,
        "random order limit",
    )
    with pytest.raises(DatasetError, match="zero rows"):
        run_profile(postgres_source, table=TABLE, sample="0.000001%")


def test_views_are_sampled_with_a_random_filter(postgres_source: SqlSource, pg_database: str) -> None:
    postgres.execute(pg_database, f"CREATE VIEW v AS SELECT * FROM {data.quote(data.TABLE)}")  # noqa: S608
    profile = run_profile(postgres_source, table="public.v", sample="50%")
    assert profile.details["sample_method"] == "random filter" and 100 < profile.row_count < 300


def test_wide_tables_split_into_statements_on_one_snapshot(
    postgres_source: SqlSource, rows: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    narrow = dataclasses.replace(engines.POSTGRES.capabilities, max_select_entries=7)
    monkeypatch.setattr(engines.POSTGRES, "capabilities", narrow)
    profile = run_profile(postgres_source, table=TABLE)
    assert profile.queries == profile.details["statements"] > 5
    assert_matches(profile, rows, "postgresql")
    sampled = run_profile(
        postgres_source, table=TABLE, sample="50%"
    )  # REPEATABLE: one sample for all statements
    counts = {c.stats["non_null_count"] + c.stats["null_count"] for c in sampled.columns}
    assert counts == {sampled.row_count}
    with pytest.raises(DatasetError, match="cannot be repeated across statements"):
        run_profile(postgres_source, table=TABLE, sample=25)


def test_statement_timeout_cancels_the_profile(postgres_source: SqlSource, pg_database: str) -> None:
    postgres.execute(
        pg_database,
        "CREATE VIEW slow AS SELECT g AS x FROM generate_series(1, 20) g, LATERAL (SELECT pg_sleep(0.5)) s",
    )
    with pytest.raises(DatasetError, match="timed out after") as error:
        run_profile(postgres_source, table="public.slow", timeout="200ms")
    assert error.value.kind.value == "timeout"
    # the limit was local to the profile's transaction: the pooled connection is back to the source default
    with postgres_source.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "5min"


def test_exotic_types_never_break_the_scan(postgres_source: SqlSource, pg_database: str) -> None:
    """Types without ordering, averages or equality (json, point, xml, money...) get the statistics they support."""
    postgres.execute(
        pg_database,
        "CREATE TYPE mood AS ENUM ('sad', 'ok')",
        """
        CREATE TABLE exotic AS SELECT g AS i, '{"a": 1}'::jsonb AS jb, '{"a": 1}'::json AS js, array[g, g] AS arr,
          interval '1 day' * g AS iv, g::money AS m, '\\x00'::bytea AS by, 'ok'::mood AS e, point(g, g) AS pt,
          '<a/>'::xml AS x, B'101' AS bt, 'a b'::tsvector AS tv, 'x'::char(3) AS ch, timetz '12:00+01' AS ttz,
          g::real AS r, 'NaN'::numeric AS nn, int4range(1, g + 2) AS rg FROM generate_series(1, 5) g""",
    )
    profile = run_profile(postgres_source, table="public.exotic")
    stats = {c.column: c.stats for c in profile.columns}
    assert profile.row_count == 5 and all(s["non_null_count"] == 5 for s in stats.values())
    assert {name for name, s in stats.items() if s["kind"] == "other"} == {
        "jb",
        "js",
        "arr",
        "iv",
        "m",
        "by",
        "e",
        "pt",
        "x",
        "bt",
        "tv",
        "rg",
    }
    assert stats["jb"]["distinct_count"] == 1 and "distinct_count" not in stats["js"]
    assert stats["ch"]["max_length"] == 1 and stats["ttz"]["min"] == "12:00:00+01:00"
    assert (stats["nn"]["nan_count"], stats["nn"]["mean"]) == (5, None)
