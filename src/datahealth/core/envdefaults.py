"""Process-wide environment defaults, applied before Prefect or Soda are imported.

Both libraries read settings from the environment at import time; setting defaults here (never
overriding what the user exported) keeps runs offline and quiet: no telemetry calls that would wait on
an unreachable network, and a generous start-up timeout for Prefect's ephemeral server on small machines.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "SODA_CORE_TELEMETRY_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    # the Snowflake connector probes cloud metadata servers (AWS, Azure, GCP) at every login for telemetry
    "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
    # engine code logs outside flow runs too (CLI --no-prefect, tests); those records stay local
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # concurrency-limit leases on disk under PREFECT_HOME, not in one server's memory: two runs that each
    # start a temporary server on the same home renew each other's leases instead of logging lease errors
    "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect.server.concurrency.lease_storage.filesystem",
}


def apply() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


apply()
