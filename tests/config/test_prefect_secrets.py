"""`${prefect.secret:NAME}` in sla_config: resolved from a real Prefect Secret block, redacted, and an
error that names file, line, key and fix when the block is missing; `${ENV}` keeps working beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.blocks.system import Secret

from datahealth.config import load_project
from datahealth.config.errors import ConfigError
from datahealth.core.redaction import redact
from datahealth.orchestration.flow import data_health
from tests.orchestration.prefect_api import read_run
from tests.orchestration.projects import AS_OF, dataset_entries, write_warehouse
from tests.support.projects import write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
SECRET = "warehouse-f7c1a9e2"  # the database file's name: the run reads it only if the block resolved


def _project(root: Path, url: str) -> Path:
    write_warehouse(root / "data" / f"{SECRET}.db", ["orders"])
    return write_project(
        root,
        {"warehouse": {"kind": "sql", "url": url}},
        dataset_entries("warehouse", ["orders"]),
        project={"name": "secret-test", "task_retries": 0},
        publish={"prometheus": {"textfile": None}},
    )


def test_a_secret_block_is_resolved_at_run_time_and_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Secret(value=SECRET).save("dh-test-db-name", overwrite=True)
    monkeypatch.setenv("DH_TEST_DATA_DIR", str(tmp_path / "data"))
    root = _project(tmp_path, "sqlite:///${DH_TEST_DATA_DIR}/${prefect.secret:dh-test-db-name}.db")

    project = load_project(root)
    assert project.config.sources["warehouse"].url.endswith(f"/data/{SECRET}.db")
    assert redact(f"opened {SECRET}.db") == "opened ***.db"

    state = data_health(project_dir=str(root), as_of=AS_OF, return_state=True)
    assert state.is_completed()
    assert {d["dataset"]: d["rows"] for d in state.result()["datasets"]} == {"warehouse.orders": 3}
    view = read_run(state.state_details.flow_run_id)
    assert view.artifacts and SECRET not in json.dumps(view.artifacts)


def test_a_missing_block_is_a_config_error_naming_file_line_key_and_fix(tmp_path: Path) -> None:
    root = _project(tmp_path, "sqlite:///${prefect.secret:dh-no-such-block}.db")
    with pytest.raises(ConfigError) as raised:
        load_project(root)
    text = raised.value.render()
    assert "sources.yaml:4" in text and "sources.warehouse.url" in text, text
    assert "no Prefect Secret block named 'dh-no-such-block'" in text and "Secret(value=...)" in text
