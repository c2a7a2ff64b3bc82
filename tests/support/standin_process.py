"""Running a stand-in server from its own virtualenv (scripts/standins.sh) on free loopback ports."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDINS = Path(os.environ.get("DATAHEALTH_STANDINS", REPO_ROOT / ".cache" / "standins"))
LAUNCHERS = Path(__file__).resolve().parent / "standins"


class StandinMissing(RuntimeError):
    """The stand-in's virtualenv is not installed (`make standins`)."""


def standin_python(name: str) -> Path:
    python = STANDINS / name / "bin" / "python"
    if not python.exists():
        raise StandinMissing(f"the {name} stand-in is not installed in {STANDINS}; run `make standins`")
    return python


@contextmanager
def standin_server(
    name: str,
    launcher: str,
    ports: list[int],
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 90,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `launcher` with the stand-in's Python, wait until `ports[0]` accepts, stop it by its PID."""
    python = standin_python(name)
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
            raise RuntimeError(f"{name} did not start: {log.read_text(errors='replace')[-2000:]}") from None
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
