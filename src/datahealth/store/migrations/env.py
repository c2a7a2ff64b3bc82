"""Alembic environment: runs on the connection datahealth hands it (see `store.migrate`)."""

from __future__ import annotations

from alembic import context

from datahealth import engines
from datahealth.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` CLI use: build an engine from the ini URL
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///.datahealth/history.db")
    connection = engine.connect()

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=engines.for_backend(connection.dialect.name).capabilities.batch_alter_table,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
