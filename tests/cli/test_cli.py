"""The command line as a user meets it: exit codes, messages, JSON output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from datahealth.cli import app
from tests.support.projects import write_project

runner = CliRunner()


def small_project(tmp_path: Path) -> Path:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute(
        "CREATE TABLE orders AS SELECT range AS id, TIMESTAMP '2026-10-10 05:00:00' AS updated_at FROM range(5)"
    )
    con.close()
    return write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={
            "wh.orders": {"timestamp_column": "updated_at", "sla": {"error_after": "1d"}},
            "wh.gone": {},
        },
    )


def test_validate_ok_and_unknown_key_exit_codes(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    ok = runner.invoke(app, ["validate", "-p", str(project)])
    assert ok.exit_code == 0 and "valid" in ok.output
    (project / "sla_config" / "extra.yaml").write_text("tiers:\n  daily:\n    schedul: '0 7 * * *'\n")
    bad = runner.invoke(app, ["validate", "-p", str(project)])
    assert bad.exit_code == 2
    assert "extra.yaml:3" in bad.output and "tiers.daily.schedul" in bad.output and "schedule" in bad.output


def test_run_then_status_json(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    result = runner.invoke(
        app, ["run", "-p", str(project), "--no-prefect", "--no-publish", "--as-of", "2026-10-10T07:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "wh.gone" in result.output and "not found" in result.output
    status = runner.invoke(app, ["status", "-p", str(project), "--format", "json"])
    assert status.exit_code == 0
    rows = {row["dataset"]: row for row in json.loads(status.stdout)}
    assert rows["wh.orders"]["status"] == "ok" and rows["wh.orders"]["rows"] == 5
    assert rows["wh.orders"]["freshness_lag_seconds"] == 7200.0
    assert rows["wh.orders"]["last_updated"].startswith("2026-10-10T05:00:00")
    assert rows["wh.gone"]["status"] == "unknown" and "not found" in rows["wh.gone"]["error"]
    for key in (
        "dataset",
        "status",
        "rows",
        "last_updated",
        "freshness_lag_seconds",
        "checks_failed",
        "error",
    ):
        assert key in rows["wh.orders"]


def test_run_fail_on_error_exits_1_and_bad_selection_exits_2(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    failing = runner.invoke(
        app, ["run", "-p", str(project), "--no-prefect", "--no-publish", "--fail-on", "error"]
    )
    assert failing.exit_code == 1
    nothing = runner.invoke(app, ["run", "-p", str(project), "--no-prefect", "-d", "wh.nope*"])
    assert nothing.exit_code == 2 and "no dataset matches" in nothing.output


def _notes_on(line: str) -> int:
    """How many prose comments a line holds; a commented-out key (`# expected_by: ...`) is not one."""
    body = line.strip()
    if re.match(r"#\s*[\w.-]+:", body):
        body = body.lstrip("#")
    return body.count("# ")


def test_init_scaffolds_a_valid_project(tmp_path: Path) -> None:
    target = tmp_path / "mon"
    created = runner.invoke(app, ["init", str(target)])
    assert created.exit_code == 0
    assert (target / "sla_config" / "datasets.yaml").exists() and (
        target / "flows" / "data_health.py"
    ).exists()
    assert (target / ".gitignore").exists()
    assert "flows/data_health.py:data_health" in (target / "prefect.yaml").read_text()
    assert runner.invoke(app, ["validate", "-p", str(target)]).exit_code == 0
    for path in (target / "sla_config").glob("*.yaml"):
        run_together = [line for line in path.read_text().splitlines() if _notes_on(line) > 1]
        assert run_together == [], path.name  # each comment on its own line


def test_version_and_grouped_help_without_type_placeholders_on_flags() -> None:
    from datahealth import __version__

    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.strip() == f"datahealth {__version__}"
    shown = runner.invoke(app, ["--help"]).output
    panels = [
        p for p in ("Get started", "Monitor", "Investigate and act", "Publish and operate") if p in shown
    ]
    assert panels == ["Get started", "Monitor", "Investigate and act", "Publish and operate"]
    assert shown.index(" init ") < shown.index(" validate ") < shown.index(" run ") < shown.index(" status ")
    report_help = runner.invoke(app, ["report", "--help"]).output
    assert "--email" in report_help and "<bool>" not in report_help and "<path>" in report_help


def test_progress_is_printed_line_by_line_when_output_is_piped(tmp_path: Path) -> None:
    import subprocess
    import sys

    project = small_project(tmp_path)
    piped = subprocess.run(
        [sys.executable, "-m", "datahealth", "run", "-p", str(project), "--no-prefect", "--no-publish"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = [line for line in piped.stderr.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[0/2") and lines[0].endswith("] starting"), piped.stderr
    assert sorted(line.split("] ")[1] for line in lines[1:]) == ["observed wh.gone", "observed wh.orders"]
    assert "Run " in piped.stdout and "2 datasets" in piped.stdout


def test_run_says_it_starts_a_temporary_prefect_server() -> None:
    from datahealth.cli.run_cmd import starting_message

    assert starting_message(prefect=True, temporary_server=True) == (
        "starting a temporary Prefect server (set PREFECT_API_URL to use yours, or --no-prefect)"
    )
    assert (
        starting_message(prefect=True, temporary_server=False)
        == "starting the Prefect flow on the server in PREFECT_API_URL"
    )
    assert starting_message(prefect=False, temporary_server=False) == "starting"


def test_status_as_of_shows_the_state_at_that_time(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    for at in ("2026-10-10T07:00Z", "2026-10-13T07:00Z"):
        ran = runner.invoke(app, ["run", "-p", str(project), "--no-prefect", "--no-publish", "--as-of", at])
        assert ran.exit_code == 0, ran.output
    now = {
        r["dataset"]: r
        for r in json.loads(runner.invoke(app, ["status", "-p", str(project), "-f", "json"]).output)
    }
    then_result = runner.invoke(app, ["status", "-p", str(project), "-f", "json", "--as-of", "2026-10-11"])
    then = {r["dataset"]: r for r in json.loads(then_result.output)}
    assert now["wh.orders"]["as_of"].startswith("2026-10-13") and then["wh.orders"]["as_of"].startswith(
        "2026-10-10"
    )
    assert (
        now["wh.orders"]["open_incidents"] >= 1 and then["wh.orders"]["open_incidents"] == 0
    )  # stale only later
    table = runner.invoke(app, ["status", "-p", str(project), "--as-of", "2026-10-11"])
    assert "Data health as of 2026-10-11 00:00 UTC" in table.output
