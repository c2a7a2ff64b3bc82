"""Behaviour several engines share, mixed into their classes (as sqlmesh's engine-adapter mixins are).

* `FileDatabaseMixin`: the database is a file on this machine (DuckDB, SQLite). A relative path in a URL
  is relative to the project root, not to wherever the command was started; a source file that does not
  exist is a clear "not found" instead of a new empty database created by the driver.
* `InterruptTimeLimitMixin`: no server-side statement timeout, so a watchdog thread calls the driver
  connection's `interrupt()` when the time limit passes (DuckDB, SQLite).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from datahealth.core.errors import SourceUnavailable
from datahealth.core.filelock import exclusive_lock
from datahealth.engines.base import SqlEngine
from datahealth.engines.cancel import Watch, watchdog

IN_MEMORY = ":memory:"


class FileDatabaseMixin(SqlEngine):
    """An engine whose database is a local file named by the URL's database part."""

    def resolve_url(self, url: URL, project_root: Path) -> URL:
        path = database_file(url)
        if path is None:
            return url
        return url.set(database=str(path if path.is_absolute() else project_root / path))

    def require_file(self, url: URL) -> Path | None:
        """The database file, which must exist (an in-memory database: None)."""
        if not url.database or url.database == IN_MEMORY:
            return None
        path = Path(url.database)
        if not path.exists():
            raise SourceUnavailable(f"{self.title} database file not found: {url.database}")
        return path

    @contextlib.contextmanager
    def migration_lock(self, url: URL) -> Iterator[None]:
        """An exclusive lock on `<database>.migrate.lock`: concurrent first runs migrate one at a time.

        The database's own write lock does not cover it: Python's sqlite3 runs DDL outside a transaction,
        so two processes that both found no schema would both create it ("alembic_version already exists").
        """
        path = database_file(url)
        if path is None:
            yield
            return
        with exclusive_lock(f"{path}.migrate.lock"):
            yield

    def resolve_store_url(self, url: URL, project_root: Path) -> URL:
        resolved = self.resolve_url(url, project_root)
        path = database_file(resolved)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return resolved


class InterruptTimeLimitMixin(SqlEngine):
    """Time limits by interrupting the driver connection from a watchdog thread."""

    @contextlib.contextmanager
    def time_limit(self, conn: sa.Connection, seconds: float | None) -> Iterator[Watch]:
        interrupt = getattr(conn.connection.driver_connection, "interrupt", None)
        if interrupt is None:
            yield Watch(None)
            return
        with watchdog(seconds, interrupt) as watch:
            yield watch


def database_file(url: URL) -> Path | None:
    """The file a URL names, with `~` expanded (None for an in-memory database)."""
    if not url.database or url.database == IN_MEMORY:
        return None
    return Path(url.database).expanduser()
