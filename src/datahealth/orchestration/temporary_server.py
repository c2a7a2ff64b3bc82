"""A temporary Prefect server for a `datahealth run` (or the demo) without `PREFECT_API_URL`.

Prefect would start one itself (`SubprocessASGIServer`) on the flow's first API call: the CLI would first
import Prefect's whole server package (seconds) and then wait, idle, for the server to answer. Here the
CLI launches the same server process (Prefect's app under uvicorn, UI off, `PREFECT_HOME`'s database)
as soon as its arguments are checked, goes on with its own start-up (the flow's imports) while the
server starts on the other core, and waits only when the flow needs it. Once the server answers, the
whole process uses it through `PREFECT_API_URL`, log and event workers included.

Two launches at once on a new home would both run Prefect's migrations on the same SQLite file; one
fails half-way. A lock file under the home is held from launch until the server answers (migrations
done), so the second launch finds an up-to-date database.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

import datahealth.core.envdefaults  # noqa: F401  (before prefect is imported)
from datahealth.core.filelock import exclusive_lock
from datahealth.core.processes import free_port, stop_process
from datahealth.orchestration.failures import MonitorError

LOCK_NAME = "datahealth-server-start.lock"
STARTUP_FAILURE_EXIT = 3  # uvicorn's exit code when it cannot bind its port or the app cannot start
PORT_ATTEMPTS = 3  # a free port taken by another process between our check and the server's bind
HINT = "set PREFECT_API_URL to a running Prefect server, or run with --no-prefect"
_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception)\b.*")


class TemporaryServer:
    """One launched server process: `ready()` waits for it and points this process's Prefect at it.

    The server's output goes to a log file under `PREFECT_HOME` (removed when empty at the end), so a
    server that cannot start shows its error as one line, not as its traceback.
    """

    def __init__(self, home: Path, timeout_seconds: float) -> None:
        self._lock = ExitStack()
        self._lock.enter_context(exclusive_lock(home / LOCK_NAME))
        self.timeout_seconds = timeout_seconds
        self.log_path = home / f"datahealth-temporary-server-{os.getpid()}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._is_ready = False
        self._spawned = 0
        try:
            self._spawn()
        except BaseException:
            self._lock.close()
            raise
        atexit.register(self.stop)  # registered before Prefect's log and event workers: runs after they drain

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def ready(self) -> str:
        """Wait until the server answers, then make it this process's Prefect API; returns its URL."""
        if self._is_ready:
            return self.api_url
        deadline = time.monotonic() + self.timeout_seconds
        try:
            with httpx.Client(timeout=5) as client:
                while not self._answers(client):
                    self._check_alive(deadline)
                    time.sleep(0.1)
        finally:
            self._lock.close()
        from prefect.context import refresh_global_settings_context

        os.environ["PREFECT_API_URL"] = self.api_url
        refresh_global_settings_context()
        self._is_ready = True
        return self.api_url

    def stop(self) -> None:
        """Stop the server process (also at exit, after Prefect has sent the run's last logs)."""
        self._lock.close()
        process, self.process = self.process, None
        if process is None:
            return
        if self._is_ready:
            _logger().info("Stopping temporary server on http://127.0.0.1:%s", self.port)
        stop_process(process, grace_seconds=5)
        with contextlib.suppress(OSError):
            if self.log_path.stat().st_size == 0:
                self.log_path.unlink()

    def _check_alive(self, deadline: float) -> None:
        """Raise the reason the server will not answer; respawn it once its port was taken."""
        code = self.process.poll() if self.process is not None else -1
        if code is None and time.monotonic() < deadline:
            return
        if code == STARTUP_FAILURE_EXIT and self._spawned < PORT_ATTEMPTS and "in use" in self._log():
            self._spawn()
            return
        self.stop()
        if code is None:
            raise MonitorError(
                f"the temporary Prefect server did not answer within {self.timeout_seconds:.0f}s "
                f"(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS); its log: {self.log_path}; {HINT}"
            )
        raise MonitorError(
            f"the temporary Prefect server could not start (exit code {code}): {self._error_line()}; "
            f"its log: {self.log_path}; {HINT}"
        )

    def _answers(self, client: httpx.Client) -> bool:
        try:
            return client.get(f"{self.api_url}/health").status_code == 200
        except httpx.TransportError:
            return False

    def _log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _error_line(self) -> str:
        """The server's last `SomeError: message` line (the cause under the traceback)."""
        lines = [line.strip() for line in self._log().splitlines() if line.strip()]
        errors = [line for line in lines if _ERROR_LINE.match(line)]
        return (errors or lines or ["no output"])[-1]

    def _spawn(self) -> None:
        """Prefect's own command for its temporary server (`SubprocessASGIServer`), on a free port."""
        import prefect
        from prefect.settings import get_current_settings

        self.port = free_port()
        self._spawned += 1
        with open(self.log_path, "wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(prefect.__module_path__.parent),
                    "--factory",
                    "prefect.server.api.server:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],
                env={
                    **os.environ,
                    "PREFECT_UI_ENABLED": "0",
                    "PREFECT__SERVER_EPHEMERAL": "1",
                    "PREFECT__SERVER_FINAL": "1",
                    **get_current_settings().to_environment_variables(exclude_unset=True),
                },
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )


def launch_temporary_server() -> TemporaryServer | None:
    """Launch the server now if this process's flow will need one (no API URL set); else None."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        return None
    home = Path(settings.home)
    home.mkdir(parents=True, exist_ok=True)
    return TemporaryServer(home, float(settings.server.ephemeral.startup_timeout_seconds))


def _logger() -> logging.Logger:
    """Prefect's logger, so the stop line reads as it does when Prefect starts the server itself."""
    from prefect.logging import get_logger

    return get_logger()
