"""The read model of the history store: every read evaluation, publishers, the report and the CLI make.

Each query is written once, here, and each kind of row becomes its object through one mapping function
(`stored_incident`, `stored_observation`, ...), so two readers can never disagree about what a row means.
Writes stay with their owners: `HistoryStore.record_dataset_results`, `store.incidents` (evaluation,
acknowledgements, schema acceptance), `store.deliveries` (the alert queue). Use it as `read.<query>`:

    from datahealth.store import read
    latest = read.latest_observations(store, ["warehouse.orders"])

"Latest" always means the newest as-of time (never the newest row id): a backfill written after newer
runs is history, not the current state.
"""

from datahealth.store.read.alerts import AlertThread, announced, find_thread, last_alerts
from datahealth.store.read.base import Reader, RunWindow, connect
from datahealth.store.read.checks import CheckPoint, StoredCheck, check_points, checks_of, latest_checks
from datahealth.store.read.findings import StoredFinding, findings_between, run_findings
from datahealth.store.read.incidents import (
    IncidentEventRecord,
    get_incident,
    incident_history,
    incidents_active_between,
    list_incidents,
    open_incidents,
    recently_resolved,
    run_events,
    stored_incident,
    timelines_active_between,
)
from datahealth.store.read.observations import (
    ObservationPoint,
    expected_row_ranges,
    latest_observations,
    newest_data,
    observation_history,
    observation_points,
    stored_observation,
)
from datahealth.store.read.profiles import (
    NullRatioPoint,
    StoredColumnProfile,
    latest_profile,
    latest_profiles,
    null_ratio_points,
    profile_history,
    profiled_between,
)
from datahealth.store.read.runs import (
    RunRecord,
    get_run,
    known_runs,
    last_finished_run,
    last_success_at,
    latest_run,
    newest_as_of,
    runs_between,
    tiers_run_since,
)
from datahealth.store.read.schemas import SchemaSnapshot, accepted_schemas, schema_log

__all__ = [
    "AlertThread",
    "CheckPoint",
    "IncidentEventRecord",
    "NullRatioPoint",
    "ObservationPoint",
    "Reader",
    "RunRecord",
    "RunWindow",
    "SchemaSnapshot",
    "StoredCheck",
    "StoredColumnProfile",
    "StoredFinding",
    "accepted_schemas",
    "announced",
    "check_points",
    "checks_of",
    "connect",
    "find_thread",
    "findings_between",
    "get_incident",
    "get_run",
    "incident_history",
    "incidents_active_between",
    "known_runs",
    "last_alerts",
    "last_finished_run",
    "last_success_at",
    "tiers_run_since",
    "latest_checks",
    "latest_observations",
    "latest_profile",
    "latest_profiles",
    "latest_run",
    "list_incidents",
    "newest_as_of",
    "newest_data",
    "null_ratio_points",
    "observation_history",
    "observation_points",
    "expected_row_ranges",
    "open_incidents",
    "recently_resolved",
    "profile_history",
    "profiled_between",
    "run_events",
    "run_findings",
    "runs_between",
    "schema_log",
    "stored_incident",
    "stored_observation",
    "timelines_active_between",
]
