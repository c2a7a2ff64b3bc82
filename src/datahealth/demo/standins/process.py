"""Running a stand-in server from its own virtualenv (scripts/standins.sh) on free loopback ports.

The stand-ins' pins clash with datahealth's, so each runs in `<project>/.cache/standins/<name>` (or under
`$DATAHEALTH_STANDINS`) from a launcher script in `launchers/` that is executed, never imported, there.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datahealth.core.processes import stop_process, wait_for_port

STANDINS_ENV = "DATAHEALTH_STANDINS"
LAUNCHERS = Path(__file__).resolve().parent / "launchers"


class StandinMissing(RuntimeError):
    """The stand-in's virtualenv is not installed (scripts/standins.sh builds it)."""


def standins_dir(project_root: Path) -> Path:
    """Where the stand-ins' virtualenvs live: `$DATAHEALTH_STANDINS`, else `.cache/standins` of the project."""
    configured = os.environ.get(STANDINS_ENV)
    return Path(configured) if configured else project_root / ".cache" / "standins"


def standin_python(standins: Path, name: str) -> Path:
    python = standins / name / "bin" / "python"
    if not python.exists():
        raise StandinMissing(
            f"the {name} stand-in is not installed in {standins}; run `scripts/standins.sh {name}`"
        )
    return python


@contextmanager
def standin_server(
    standins: Path,
    name: str,
    launcher: str,
    ports: list[int],
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `launcher` with the stand-in's Python, wait until `ports[0]` accepts, stop it by its PID."""
    python = standin_python(standins, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(python), str(LAUNCHERS / launcher), *map(str, ports)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    try:
        try:
            wait_for_port(ports[0], timeout=timeout)
        except TimeoutError:
            process.kill()
            process.wait()
            raise RuntimeError(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}") from None
        yield process
    finally:
        stop_process(process, grace_seconds=15)
