"""Prefect wiring: the `data_health` flow and its thin tasks. The engine never imports this package."""

import datahealth.envdefaults  # noqa: F401  (must run before prefect is imported)
