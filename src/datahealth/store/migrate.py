"""Brings a history store's schema to the newest Alembic revision before it is used.

Several runs may open a new store at the same moment (workers of one deployment, a frequent and a daily
tier): they migrate one at a time, and each checks again once it holds the lock, so the store's tables
are created once. Alembic's `context` is process-global, hence the thread lock; the engine's
transaction lock (PostgreSQL: an advisory lock) covers other processes and machines, and a file store's
migration lock file (`history.db.migrate.lock`) covers other processes on this machine.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from datahealth import engines

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 0x64686D6967  # "dhmig"
_migrating = threading.Lock()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Run pending migrations (a no-op when the store is current, which is checked first because it is cheap)."""
    if current_revision(engine) == head_revision():
        return
    config = alembic_config()
    backend = engines.for_url(engine.url)
    with _migrating, backend.migration_lock(engine.url), engine.begin() as conn:
        backend.lock_transaction(conn, _MIGRATION_LOCK_KEY)
        if MigrationContext.configure(conn).get_current_revision() == head_revision():
            return  # another run migrated it while this one waited
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
