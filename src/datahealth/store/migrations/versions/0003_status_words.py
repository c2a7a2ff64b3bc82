"""dataset status `error` is now `unknown`

Revision ID: 0003_status_words
Revises: 0002
Create Date: 2026-12-03 17:00:00.000000

A dataset's status and an incident's severity shared the word `error` ("4 fail · 0 error" beside red
`error` severity badges). The status of a dataset the monitor could not observe or evaluate is now
`unknown` (as a never-observed dataset's always was); severities stay `warn` / `error`. Only stored
values change: the new word fits the column, so no table is rebuilt.
"""

from __future__ import annotations

from alembic import op

revision = "0003_status_words"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE observations SET status = 'unknown' WHERE status = 'error'")


def downgrade() -> None:
    op.execute("UPDATE observations SET status = 'error' WHERE status = 'unknown'")
