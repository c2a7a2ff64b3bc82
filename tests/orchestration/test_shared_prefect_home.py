"""Two `datahealth run`s at once on one new PREFECT_HOME, each starting its own temporary Prefect server.

Both servers use the home's one database. Started at the same moment, both ran Prefect's migrations on
it and one failed half-way, logging a traceback before Prefect restarted it (seen in the full suite and
by hand, on a quiet machine too); datahealth now starts the temporary server under a lock file in the
home (orchestration/temporary_server.py). The `source-warehouse` concurrency limit (one slot) is one
limit for both runs: each run's tasks take the slot through one server while the other server sees it
taken, with the leases on disk under the home (core/envdefaults.py). Neither run may log a lease error
or a traceback, and both must record every dataset.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from datahealth.store import HistoryStore
from datahealth.store.tables import observations, runs
from tests.orchestration.projects import AS_OF, sqlite_project

pytestmark = pytest.mark.slow
DATAHEALTH = str(Path(sys.executable).with_name("datahealth"))
TABLES = ["orders", "customers", "products", "payments"]


def start_run(root: Path, home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return subprocess.Popen(
        [DATAHEALTH, "run", "-p", str(root), "--as-of", AS_OF, "--no-publish", "--tier", "daily"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def recorded(root: Path) -> tuple[list[str], list[str]]:
    store = HistoryStore.open(f"sqlite:///{root / '.datahealth' / 'history.db'}")
    try:
        with store.engine.connect() as conn:
            statuses = conn.execute(sa.select(runs.c.status)).scalars().all()
            datasets = conn.execute(sa.select(observations.c.dataset)).scalars().all()
    finally:
        store.close()
    return list(statuses), sorted(datasets)


def test_two_runs_on_one_prefect_home_share_a_source_limit_without_lease_errors(tmp_path: Path) -> None:
    home = tmp_path / "prefect-home"
    home.mkdir()
    settings = {"name": "shared-home", "task_retry_delay": "0.1s", "source_concurrency_limits": True}
    roots = [
        sqlite_project(tmp_path / name, TABLES, max_concurrency=1, project=settings) for name in ("a", "b")
    ]
    started = [start_run(root, home) for root in roots]
    outputs = []
    for process in started:
        out, _ = process.communicate(timeout=420)
        outputs.append((process.returncode, out))

    for code, out in outputs:
        assert code == 0, out[-3000:]
        assert "lease" not in out.lower(), out[-3000:]
        assert "Traceback" not in out, out[-3000:]
    for root in roots:
        statuses, datasets = recorded(root)
        assert statuses == ["completed"]
        assert datasets == sorted(f"warehouse.{t}" for t in TABLES)
