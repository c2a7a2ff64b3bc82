"""The history store's tables: the memory that Soda Cloud would otherwise be.

Columns that queries filter or aggregate on are real columns with indexes; the rest of each record goes
in a JSON `details` column so later features can add fields without a migration. Every change to this
file needs a matching Alembic revision in `migrations/versions/`: tests compare the migrated database
with these models (Alembic's `compare_metadata`, on SQLite and PostgreSQL), and check that every read of
the growing tables is served by an index. Every foreign key has an index on its referencing column.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()
TS = sa.DateTime(timezone=True)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS),
    sa.Column("as_of", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("tier", sa.String(64)),
    sa.Column("flow_run_id", sa.String(64)),
    sa.Column("selection", sa.JSON),
    sa.Column("datasets_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("datasets_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("health_score", sa.Float),
    sa.Column("summary", sa.JSON),
    sa.Index("ix_runs_as_of", "as_of"),
    sa.Index("ix_runs_status", "status"),
)

observations = sa.Table(
    "observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("as_of", TS, nullable=False),
    sa.Column("observed_at", TS, nullable=False),
    sa.Column("duration_seconds", sa.Float),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("row_count", sa.BigInteger),
    sa.Column("row_count_method", sa.String(32)),
    sa.Column("last_updated", TS),
    sa.Column("last_updated_method", sa.String(32)),
    sa.Column("freshness_lag_seconds", sa.Float),
    sa.Column("columns", sa.JSON),
    sa.Column("checks_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("error_kind", sa.String(32)),
    sa.Column("details", sa.JSON),
    sa.Index("ix_observations_dataset_as_of", "dataset", "as_of"),
    sa.Index("ix_observations_run", "run_id"),
)

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "observation_id", sa.Integer, sa.ForeignKey("observations.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("as_of", TS, nullable=False),
    sa.Column("column_name", sa.String(255), nullable=False),
    sa.Column("column_type", sa.String(128)),
    sa.Column("row_count", sa.BigInteger),
    sa.Column("null_count", sa.BigInteger),
    sa.Column("null_ratio", sa.Float),
    sa.Column("distinct_count", sa.BigInteger),
    sa.Column("distinct_method", sa.String(16)),
    sa.Column("min_value", sa.Text),
    sa.Column("max_value", sa.Text),
    sa.Column("mean", sa.Float),
    sa.Column("stddev", sa.Float),
    sa.Column("sampled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("sample", sa.String(32)),
    sa.Column("window_start", TS),
    sa.Column("window_end", TS),
    sa.Column("stats", sa.JSON),
    sa.Index("ix_profiles_dataset_column_as_of", "dataset", "column_name", "as_of"),
    sa.Index("ix_profiles_run", "run_id"),
    sa.Index("ix_profiles_observation", "observation_id"),
)

check_results = sa.Table(
    "check_results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "observation_id", sa.Integer, sa.ForeignKey("observations.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("as_of", TS, nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("check_type", sa.String(64), nullable=False),
    sa.Column("column_name", sa.String(255)),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("observed_value", sa.Float),
    sa.Column("threshold", sa.Text),
    sa.Column("origin", sa.String(16), nullable=False, server_default="user"),
    sa.Column("message", sa.Text),
    sa.Column("details", sa.JSON),
    sa.Index("ix_check_results_dataset_as_of", "dataset", "as_of"),
    sa.Index("ix_check_results_run", "run_id"),
    sa.Index("ix_check_results_observation", "observation_id"),
)

schema_snapshots = sa.Table(
    "schema_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("run_id", sa.String(36)),
    sa.Column("as_of", TS, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("accepted_at", TS),
    sa.Column("details", sa.JSON),
    sa.Index("ix_schema_snapshots_dataset_as_of", "dataset", "as_of"),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("as_of", TS, nullable=False),
    sa.Column("fingerprint", sa.String(512), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(255)),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("details", sa.JSON),
    sa.Index("ix_findings_run", "run_id"),
    sa.Index("ix_findings_dataset_as_of", "dataset", "as_of"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(512), nullable=False),
    sa.Column("dataset", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(255)),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("message", sa.Text),
    sa.Column("opened_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
    sa.Column("resolved_at", TS),
    sa.Column("last_run_id", sa.String(36)),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("acknowledged_by", sa.String(255)),
    sa.Column("quiet_until", TS),
    sa.Column("details", sa.JSON),
    sa.Index("ix_incidents_fingerprint_status", "fingerprint", "status"),
    sa.Index("ix_incidents_dataset", "dataset"),
    sa.Index("ix_incidents_status", "status"),
)

incident_events = sa.Table(
    "incident_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(36)),
    sa.Column("details", sa.JSON),
    sa.Index("ix_incident_events_incident_at", "incident_id", "at"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id", ondelete="SET NULL")),
    sa.Column("run_id", sa.String(36)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("next_attempt_at", TS),
    sa.Column("sent_at", TS),
    sa.Column("external_ref", sa.String(255)),
    sa.Column("details", sa.JSON),
    sa.Index("ix_deliveries_status_created", "status", "created_at"),
    sa.Index("ix_deliveries_incident", "incident_id"),
)

alert_threads = sa.Table(
    "alert_threads",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel", sa.String(255), nullable=False),
    sa.Column("message_ts", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("details", sa.JSON),
    sa.UniqueConstraint("incident_id", "channel", name="uq_alert_threads_incident_channel"),
)
