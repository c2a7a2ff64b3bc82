"""Two Prefect servers on one PREFECT_HOME (two `datahealth run`s, each with a temporary server) share
concurrency leases: one server's lease is found by the other, so renewals do not fail with lease errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SERVER = """
import asyncio, sys, uuid
from datetime import timedelta
import datahealth.core.envdefaults
from prefect.server.concurrency.lease_storage import get_concurrency_lease_storage

async def main():
    storage = get_concurrency_lease_storage()
    if sys.argv[1] == "create":
        lease = await storage.create_lease([uuid.uuid4()], timedelta(minutes=5))
        print(lease.id)
    else:
        print("found" if await storage.read_lease(uuid.UUID(sys.argv[2])) else "unknown")

asyncio.run(main())
"""


def server_process(home: Path, *args: str) -> str:
    env = {**os.environ, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", None)  # datahealth's default decides
    done = subprocess.run(
        [sys.executable, "-c", SERVER, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_a_lease_taken_by_one_server_is_known_to_another_on_the_same_home(tmp_path: Path) -> None:
    lease_id = server_process(tmp_path, "create")
    assert server_process(tmp_path, "read", lease_id) == "found"
