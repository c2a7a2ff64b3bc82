"""A password with URL-special characters, from the environment, reaches the server the URL names.

Before the fix `monitor:${PW}@127.0.0.1:<port>/wh` with PW='S3cr3t@/:#?X' passed validation and then
connected to the default local socket, offering the credentials there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.reliability.cluster import PrivateCluster
from tests.reliability.world import by_dataset, run
from tests.support.projects import write_project

HOSTILE = "S3cr3t@/:#?X"


def test_a_hostile_env_password_connects_to_the_right_server(
    tmp_path: Path, cluster: PrivateCluster, warehouse: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    role = f"monitor_{uuid.uuid4().hex[:8]}"
    cluster.execute(
        f"CREATE ROLE {role} LOGIN PASSWORD '{HOSTILE}'",
        f'GRANT CONNECT ON DATABASE "{warehouse}" TO {role}',
    )
    cluster.execute(
        "CREATE TABLE orders AS SELECT g AS id, now() AS updated_at FROM generate_series(1, 3) g",
        f"GRANT SELECT ON orders TO {role}",
        dbname=warehouse,
    )
    monkeypatch.setenv("DH_TEST_HOSTILE_PW", HOSTILE)
    root = write_project(
        tmp_path,
        {
            "wh": {
                "kind": "sql",
                "url": f"postgresql+psycopg://{role}:${{DH_TEST_HOSTILE_PW}}@127.0.0.1:{cluster.port}/{warehouse}",
            }
        },
        {"wh.orders": {"timestamp_column": "updated_at"}},
    )
    summary = run(root, profile=False, checks=False, report=False)
    orders = by_dataset(summary)["wh.orders"]
    assert orders.status == "ok", orders
    assert orders.rows == 3
    assert HOSTILE not in str(summary.to_dict())
