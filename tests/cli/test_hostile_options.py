"""Every option is checked before work starts, and no traceback reaches a user from any command.

The findings reproduced: `--as-of 0001-01-01T00:00Z` raised OverflowError and left a `runs` row
`running`; `report -o /proc/version` printed a traceback; `-f xml` was accepted silently; in Prefect mode
a history store that cannot be opened printed Prefect's traceback.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from datahealth.cli import app, entrypoint
from datahealth.store.tables import runs
from tests.support.ports import free_port
from tests.support.projects import write_project

cli = CliRunner()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "wh.db") as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, loaded_at TIMESTAMP)")
    return write_project(tmp_path, {"wh": {"kind": "sql", "url": "sqlite:///wh.db"}}, {"wh.orders": {}})


def one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error"), output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00Z", "9999-12-31T23:59Z", "1969-12-31"])
def test_an_out_of_range_as_of_is_one_line_and_records_no_run(root: Path, as_of: str) -> None:
    result = cli.invoke(app, ["run", "-p", str(root), "--no-prefect", "--as-of", as_of])
    assert result.exit_code == 2
    assert "out of range" in one_line_error(result.output)
    history = root / ".datahealth" / "history.db"
    if history.exists():
        engine = sa.create_engine(f"sqlite:///{history}")
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 0
        engine.dispose()


@pytest.mark.parametrize("command", [["status"], ["run", "--no-prefect"], ["incidents", "list"]])
def test_an_unknown_format_is_refused(root: Path, command: list[str]) -> None:
    result = cli.invoke(app, [*command, "-p", str(root), "-f", "xml"])
    assert result.exit_code == 2
    assert "--format 'xml' is not one of: json, table" in one_line_error(result.output)


def test_report_to_an_unwritable_path_is_one_line(root: Path) -> None:
    assert cli.invoke(app, ["run", "-p", str(root), "--no-prefect"]).exit_code == 0
    for target in ("/proc/version", "/proc/version/sub/r.html"):
        result = cli.invoke(app, ["report", "-p", str(root), "-o", target])
        assert result.exit_code == 2, result.output
        assert "cannot write" in one_line_error(result.output)
    made = cli.invoke(app, ["report", "-p", str(root), "-o", str(root / "new" / "r.html")])
    assert made.exit_code == 0 and (root / "new" / "r.html").is_file()  # a missing folder is made


def test_an_unreachable_history_store_in_prefect_mode_is_one_line_before_prefect_starts(root: Path) -> None:
    project = root / "sla_config" / "project.yaml"
    project.write_text(f"history:\n  url: postgresql+psycopg://dh:pw@127.0.0.1:{free_port()}/history\n")
    result = cli.invoke(app, ["run", "-p", str(root), "--prefect"])
    assert result.exit_code == 1
    line = one_line_error(result.output)
    assert "cannot open the history store" in line and "check history.url" in line


def test_an_unexpected_error_is_one_line_with_a_hint_and_debug_shows_the_traceback(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(path: Path, **_: object) -> None:
        raise RuntimeError("something nobody foresaw\nsecond line")

    monkeypatch.setattr("datahealth.cli.run_cmd.open_project", broken)
    monkeypatch.setattr(sys, "argv", ["datahealth", "status", "-p", str(root)])
    with pytest.raises(SystemExit) as ended:
        entrypoint.main()
    assert ended.value.code == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "error: RuntimeError: something nobody foresaw (run again with --debug for the traceback)"
    )
    monkeypatch.setattr(sys, "argv", ["datahealth", "--debug", "status", "-p", str(root)])
    with pytest.raises(RuntimeError, match="nobody foresaw"):
        entrypoint.main()
