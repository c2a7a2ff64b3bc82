"""Property-based: whatever a user writes in a check file, the checks stage never raises.

A broken file becomes an error result that names the file, and it never switches off the checks
datahealth generates from config (here: the primary key's duplicate check), which keep running.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from datahealth.checks.runner import run_checks
from datahealth.config import load_project
from datahealth.sources import open_source
from tests.reliability.world import DUCKDB_WAREHOUSE, keyed_table, write_monitoring_project

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 10, 10, 6, 0, tzinfo=UTC)
CHECK_FILE = "checks/wh/orders.yml"
KEYS = [
    "columns",
    "checks",
    "name",
    "data_type",
    "missing",
    "invalid",
    "duplicate",
    "row_count",
    "schema",
    "freshness",
    "metric",
    "failed_rows",
    "aggregate",
    "threshold",
    "must_be",
    "must_be_greater_than",
    "must_be_between",
    "greater_than",
    "less_than",
    "valid_values",
    "valid_min",
    "qualifier",
    "filter",
    "column",
    "columns",
    "expression",
    "query",
    "function",
    "unit",
    "level",
    "dataset",
    "variables",
    "id",
    "status",
    "updated_at",
    "nope",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["id", "status", "nope", "warn", "avg", "hour", "id > 1", "SELECT 1", "'", '"', "${var.X}", "a/b"]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=20,
)
contracts = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), values, max_size=4).map(yaml.safe_dump), st.text(max_size=120)
)


@pytest.fixture(scope="module")
def project_root() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        con = duckdb.connect(str(root / "wh.duckdb"))
        con.execute(
            "CREATE TABLE orders AS SELECT range AS id, 'paid' AS status, "
            "TIMESTAMP '2026-10-10 05:00:00' AS updated_at FROM range(20)"
        )
        con.close()
        yield write_monitoring_project(root, DUCKDB_WAREHOUSE, {"wh.orders": keyed_table()})


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(contracts)
@example("variables:\n  columns: true\n")  # crashed Soda's parser with an AttributeError (found by this test)
def test_any_check_file_gives_results_never_a_traceback(project_root: Path, text: str) -> None:
    (project_root / CHECK_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project_root / CHECK_FILE).write_text(text)
    project = load_project(project_root)
    dataset = project.dataset("wh.orders")
    source = open_source("wh", project.config.sources["wh"], project.root)
    try:
        meta = source.describe([dataset])["wh.orders"]
        results = run_checks(project, dataset, source, AS_OF, meta=meta)  # type: ignore[arg-type]
    finally:
        source.close()
    shown = [(r.name, r.origin, r.outcome.value, r.message) for r in results]
    duplicate = next(r for r in results if r.name == "id.duplicate")  # generated, or the user's own version
    assert duplicate.origin == "user" or duplicate.outcome.value == "pass", shown
    for result in results:
        if result.name == "contract":  # a problem with the file as a whole says which file
            assert result.message.startswith(CHECK_FILE), shown
