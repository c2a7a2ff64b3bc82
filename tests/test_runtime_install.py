"""`make demo` installs the runtime lock only (no test tools, no warehouse or lake extras): the CLI must
work there. The dev environment the other tests run in is a superset and hides a module the runtime
set lacks (pyarrow once came only with the `lakes` extra; a Snowflake Soda plugin was imported
unconditionally), so this test builds a runtime-only virtualenv with the project's own bootstrap
script and runs a short demo in it, through the Prefect flow as `make demo` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_the_cli_runs_a_demo_on_the_runtime_lock_alone(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "VIRTUAL_ENV"))}
    env.update(VENV=str(venv), PREFECT_HOME=str(tmp_path / "prefect-home"), COLUMNS="200")
    env.update(DATAHEALTH_SMTP_HOST="", DATAHEALTH_PUSHGATEWAY_URL="")
    env.pop("DATAHEALTH_DEMO_ENGINE", None)
    env.pop("DATAHEALTH_DEMO_LAKE", None)
    bootstrap = subprocess.run(
        [str(REPO / "scripts" / "bootstrap-python.sh"), "runtime"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bootstrap.returncode == 0, bootstrap.stderr[-3000:]
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(bool(u.find_spec('pytest')))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout.strip() == "False"  # really the runtime set, not the dev one

    project = tmp_path / "project"
    for folder in ("sla_config", "checks"):
        shutil.copytree(REPO / folder, project / folder)
    done = subprocess.run(
        [str(venv / "bin" / "datahealth"), "demo", "--days", "2", "-p", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Traceback" not in output and "error:" not in output, output[-3000:]
    assert "Data health after the demo" in output
    reports = list((project / "reports").glob("*.html"))
    assert reports and all(r.stat().st_size > 100_000 for r in reports), reports
