"""An exclusive lock on a file, held across processes on this machine (POSIX `flock`).

Used where two processes would otherwise each do a one-time setup at once: the first migration of a
SQLite history store, and the first start of a temporary Prefect server on a shared PREFECT_HOME.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock, the callers' own checks remain
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def exclusive_lock(path: Path | str) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; waits for other holders."""
    if fcntl is None:
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
