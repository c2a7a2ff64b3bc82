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

from datahealth import engines
from datahealth.core.redaction import redact


class HistoryStoreError(Exception):
    """The history store cannot be opened or written: the monitor itself cannot work."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message  # the driver's words alone (secret-free), for a caller's own message


def resolve_history_url(raw: str, project_root: Path) -> URL:
    """File databases are relative to the project root; their directory is created on first use."""
    url = make_url(raw)
    return engines.for_url(url).resolve_store_url(url, project_root)


def create_history_engine(url: URL) -> Engine:
    """An engine for the store: its engine's store options and session settings, errors made readable."""
    backend = engines.for_url(url)
    options = backend.store_engine_options(url)
    engine = sa.create_engine(url, connect_args=options.connect_args, **options.kwargs)
    shown = redact(url.render_as_string(hide_password=True))

    @sa.event.listens_for(engine, "handle_error")
    def _unavailable(context: ExceptionContext) -> None:
        # pre-ping failures are how the pool notices a dropped connection and reconnects: leave them alone
        if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, sa.exc.OperationalError):
            return
        reason = redact(str(context.original_exception).strip().splitlines()[0] or "unavailable")
        raise HistoryStoreError(f"cannot use the history store {shown}: {reason}", reason)

    @sa.event.listens_for(engine, "connect")
    def _prepare_session(dbapi_connection: Any, _record: Any) -> None:
        backend.prepare_store_connection(dbapi_connection, url)

    return engine
