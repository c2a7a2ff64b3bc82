"""runs by status

Revision ID: 0004_runs_status_index
Revises: 0003_status_words
Create Date: 2026-12-03 18:30:00.000000

- `runs (status)`: every run starts by looking for runs a dead process left `running`
  (`store/liveness.py`); the index keeps that a lookup of the few running rows, however long the history.
"""

from __future__ import annotations

from alembic import op

revision = "0004_runs_status_index"
down_revision = "0003_status_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_status", "runs", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_runs_status", table_name="runs")
