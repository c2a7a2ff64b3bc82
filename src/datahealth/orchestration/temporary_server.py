"""Starts this process's temporary Prefect server one process at a time per PREFECT_HOME.

Without `PREFECT_API_URL`, every `datahealth run` (and the demo) starts a temporary Prefect server on
`PREFECT_HOME`'s database. Two that start at once on a new home both run Prefect's migrations on the
same SQLite file; one fails half-way and its server logs a traceback before Prefect retries it. Holding
a lock file under the home until the server answers (migrations done) lets the second start find an
up-to-date database. The server is Prefect's own (`SubprocessASGIServer`, one per process): the flow's
client finds it already running.
"""

from __future__ import annotations

from pathlib import Path

import datahealth.core.envdefaults  # noqa: F401  (before prefect is imported)
from datahealth.core.filelock import exclusive_lock

LOCK_NAME = "datahealth-server-start.lock"


def start_temporary_server() -> bool:
    """Start the temporary server now, under the home's lock, if this process will use one; True if so."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return False
    home = Path(PREFECT_HOME.value())
    home.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(home / LOCK_NAME):
        SubprocessASGIServer().start()
    return True
