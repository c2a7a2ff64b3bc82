"""Opens the history store's database: SQLite by default (WAL, busy timeout), PostgreSQL when shared.

A SQLite store locked by another process (a backup, a second run) makes writes wait up to the busy
timeout: 30 s, or `?timeout=<seconds>` in `history.url`. A store still locked after that, or one that
cannot be reached, raises `HistoryStoreError` from whichever read or write found out: one secret-free
line naming the store instead of a driver traceback (docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, ExceptionContext, make_url

from datahealth.core.redaction import redact


class HistoryStoreError(Exception):
    """The history store cannot be opened or written: the monitor itself cannot work."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message  # the driver's words alone (secret-free), for a caller's own message


def resolve_history_url(raw: str, project_root: Path) -> URL:
    """SQLite paths are relative to the project root; their directory is created on first use."""
    url = make_url(raw)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        if not path.is_absolute():
            path = project_root / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    return url


def sqlite_lock_timeout(url: URL) -> float:
    """Seconds a write waits for another process's lock on a SQLite store: `?timeout=` in the URL, else 30."""
    raw = url.query.get("timeout", "30")
    try:
        return max(0.0, float(raw if isinstance(raw, str) else raw[-1]))
    except ValueError:
        raise ValueError(f"history.url: timeout={raw!r} is not a number of seconds") from None


def create_history_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {}
    lock_timeout = sqlite_lock_timeout(url) if url.get_backend_name() == "sqlite" else 0.0
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": lock_timeout, "check_same_thread": False}
    else:
        kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=5)
    engine = sa.create_engine(url, **kwargs)
    shown = redact(url.render_as_string(hide_password=True))

    @sa.event.listens_for(engine, "handle_error")
    def _unavailable(context: ExceptionContext) -> None:
        # pre-ping failures are how the pool notices a dropped connection and reconnects: leave them alone
        if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, sa.exc.OperationalError):
            return
        reason = redact(str(context.original_exception).strip().splitlines()[0] or "unavailable")
        raise HistoryStoreError(f"cannot use the history store {shown}: {reason}", reason)

    if url.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine
