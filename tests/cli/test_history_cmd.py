"""`datahealth history DATASET`: a dataset's runs as a table with a sparkline column, or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.cli.history_cmd import sparkline_cells
from tests.report.history import ORDERS, build_history

runner = CliRunner()


def test_history_shows_each_run_with_rows_lag_status_and_checks(tmp_path: Path) -> None:
    built = build_history(tmp_path)
    built.store.close()
    root = str(built.project.root)
    result = runner.invoke(app, ["history", ORDERS, "-p", root, "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert f"{ORDERS}: the last 5 runs" in result.output and "checks failed" in result.output
    as_json = runner.invoke(app, ["history", ORDERS, "-p", root, "--format", "json"])
    rows = json.loads(as_json.output)
    assert len(rows) > 5 and {"as_of", "status", "rows", "freshness_lag_seconds", "checks_failed"} <= set(
        rows[0]
    )
    assert [r["as_of"] for r in rows] == sorted(r["as_of"] for r in rows)  # oldest first, newest last
    assert rows[-1]["rows"] is not None and str(f"{rows[-1]['rows']:,}") in result.output
    unknown = runner.invoke(app, ["history", "nope.nothing", "-p", root])
    assert unknown.exit_code != 0 and "unknown dataset 'nope.nothing'" in unknown.output


def test_the_sparkline_scales_between_the_smallest_and_largest() -> None:
    assert sparkline_cells([10, None, 20, 15]) == ["▁", " ", "█", "▅"]
    assert sparkline_cells([5, 5]) == ["█", "█"] and sparkline_cells([None]) == [" "]
