"""Prefect wiring: the `data_health` flow and its thin tasks. The engine never imports this package."""

import os

import datahealth.core.envdefaults  # noqa: F401  (must run before prefect is imported)

# datahealth's own log lines (publisher warnings, ...) land in the flow run's log in the UI
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "datahealth")
