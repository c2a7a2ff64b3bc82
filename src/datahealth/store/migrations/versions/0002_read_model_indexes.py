"""indexes the read model needs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 12:00:00.000000

- `check_results (observation_id)` and `profiles (observation_id)`: the check results and profile of given
  observations, and the foreign keys from both tables to `observations`. Without them, every observation
  retention deletes makes the database look for its check results and profile rows by scanning those
  tables end to end (SQLite and PostgreSQL both check a foreign key from the referencing side).
- `incident_events (incident_id, at)` replaces `(incident_id)`: an incident's timeline is read in time
  order straight from the index (the report reads the timelines of every incident in its window). The new
  index is created before the old one is dropped, so the foreign key is covered throughout (MySQL and
  MariaDB refuse to drop the only index of a foreign key).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_check_results_observation", "check_results", ["observation_id"], unique=False)
    op.create_index("ix_profiles_observation", "profiles", ["observation_id"], unique=False)
    op.create_index("ix_incident_events_incident_at", "incident_events", ["incident_id", "at"], unique=False)
    op.drop_index("ix_incident_events_incident", table_name="incident_events")


def downgrade() -> None:
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id"], unique=False)
    op.drop_index("ix_incident_events_incident_at", table_name="incident_events")
    op.drop_index("ix_profiles_observation", table_name="profiles")
    op.drop_index("ix_check_results_observation", table_name="check_results")
