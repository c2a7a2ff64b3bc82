"""The installed `datahealth` console script: exit codes, complete output through a pipe, a clean exit.

Each command runs as its own process, as a user or a scheduler runs it: stdout is a pipe (fully
buffered), so output lost at exit would show here, and so would duckdb's "leaked instances" noise
or a traceback from interpreter teardown.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from datahealth.cli import entrypoint
from tests.support.projects import write_project

DATAHEALTH = str(Path(sys.executable).with_name("datahealth"))
AS_OF = "2026-10-10T07:00:00Z"


def shop(root: Path) -> Path:
    """A DuckDB warehouse: `orders` fresh but with a duplicate id (a failing Soda check), `customers` ok."""
    con = duckdb.connect(str(root / "wh.duckdb"))
    con.execute(
        "CREATE TABLE orders AS SELECT range % 9 AS id, TIMESTAMP '2026-10-10 05:00:00' AS updated_at "
        "FROM range(10)"
    )
    con.execute(
        "CREATE TABLE customers AS SELECT range AS id, TIMESTAMP '2026-10-10 06:00:00' AS updated_at "
        "FROM range(5)"
    )
    con.close()
    return write_project(
        root,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={
            "wh.orders": {
                "timestamp_column": "updated_at",
                "primary_key": ["id"],
                "sla": {"error_after": "1d"},
            },
            "wh.customers": {"timestamp_column": "updated_at", "primary_key": ["id"]},
        },
    )


def datahealth(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DATAHEALTH, *args, "-p", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_clean_exit(done: subprocess.CompletedProcess[str]) -> None:
    assert "leaked" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]


def test_run_and_status_print_everything_and_exit_0(tmp_path: Path) -> None:
    root = shop(tmp_path)
    ran = datahealth(root, "run", "--no-prefect", "--as-of", AS_OF, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    assert_clean_exit(ran)
    summary = json.loads(ran.stdout)  # the whole document arrived through the pipe
    assert {d["dataset"]: d["status"] for d in summary["datasets"]} == {
        "wh.orders": "fail",
        "wh.customers": "ok",
    }
    status = datahealth(root, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    assert_clean_exit(status)
    assert {d["dataset"]: d["status"] for d in json.loads(status.stdout)} == {
        "wh.orders": "fail",
        "wh.customers": "ok",
    }


def test_table_output_ends_with_the_run_summary(tmp_path: Path) -> None:
    root = shop(tmp_path)
    ran = datahealth(root, "run", "--no-prefect", "--as-of", AS_OF)
    assert ran.returncode == 0, ran.stderr
    assert_clean_exit(ran)
    assert re.search(r"Run \w+: 2 datasets in [\d.]+s; 1 ok, 1 fail; health score \d+/100\n\Z", ran.stdout), (
        ran.stdout[-500:]
    )


def test_fail_on_exits_1_after_printing_the_results(tmp_path: Path) -> None:
    root = shop(tmp_path)
    ran = datahealth(root, "run", "--no-prefect", "--as-of", AS_OF, "--fail-on", "fail")
    assert ran.returncode == 1
    assert_clean_exit(ran)
    assert "wh.orders" in ran.stdout and "health score" in ran.stdout


def test_invalid_config_exits_2_with_the_message_on_stderr(tmp_path: Path) -> None:
    root = shop(tmp_path)
    (root / "sla_config" / "extra.yaml").write_text("tiers:\n  daily:\n    schedul: '0 7 * * *'\n")
    status = datahealth(root, "status")
    assert status.returncode == 2
    assert "extra.yaml:3" in status.stderr and "tiers.daily.schedul" in status.stderr
    assert status.stdout == ""


def test_a_run_through_a_temporary_prefect_server_stops_it_and_exits_0(
    tmp_path: Path, ephemeral_prefect: dict[str, str]
) -> None:
    """The exit handlers run: Prefect stops the temporary server it started, and nothing listens after."""
    root = shop(tmp_path)
    ran = datahealth(root, "run", "--as-of", AS_OF, env=ephemeral_prefect)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
    assert_clean_exit(ran)
    assert "1 ok, 1 fail" in ran.stdout
    assert "starting a temporary Prefect server" in ran.stderr
    stopped = re.search(r"Stopping temporary server on http://127\.0\.0\.1:(\d+)", ran.stdout + ran.stderr)
    assert stopped, ran.stderr[-2000:]
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", int(stopped.group(1)))) != 0
    home = Path(ephemeral_prefect["PREFECT_HOME"])
    assert (home / "prefect.db").is_file()  # the server used the home's database
    assert not list(home.glob("datahealth-temporary-server-*.log"))  # a quiet server leaves no log


def test_a_temporary_prefect_server_that_cannot_start_is_one_line_with_its_cause(
    tmp_path: Path, ephemeral_prefect: dict[str, str]
) -> None:
    """Prefect's database cannot be opened: the server's traceback stays in its log, the user gets the cause."""
    root = shop(tmp_path)
    env = {
        **ephemeral_prefect,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/missing/dir/prefect.db",
    }
    ran = datahealth(root, "run", "--as-of", AS_OF, env=env)
    assert ran.returncode == 1, ran.stdout[-2000:] + ran.stderr[-3000:]
    assert_clean_exit(ran)
    errors = [line for line in ran.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, ran.stderr[-3000:]
    assert "the temporary Prefect server could not start (exit code 3)" in errors[0]
    assert "unable to open database file" in errors[0] and "--no-prefect" in errors[0]
    logs = list(Path(ephemeral_prefect["PREFECT_HOME"]).glob("datahealth-temporary-server-*.log"))
    assert len(logs) == 1 and str(logs[0]) in errors[0]
    assert "Traceback" in logs[0].read_text()  # kept for who wants the detail
    assert "health score" not in ran.stdout  # no run without the server


@pytest.mark.parametrize(
    ("raised", "code"),
    [(SystemExit(0), 0), (SystemExit(2), 2), (SystemExit(None), None), (KeyboardInterrupt(), 130)],
)
def test_main_exits_with_the_commands_code(
    monkeypatch: pytest.MonkeyPatch, raised: BaseException, code: int | None
) -> None:
    def command() -> None:
        raise raised

    monkeypatch.setattr(entrypoint, "app", command)
    with pytest.raises(SystemExit) as exited:
        entrypoint.main()
    assert exited.value.code == code


def test_python_dash_m_is_the_same_entry_point(tmp_path: Path) -> None:
    root = shop(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "datahealth", "status", "-p", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "never observed: run `datahealth run`" in done.stdout, done.stdout
