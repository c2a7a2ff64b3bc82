"""The `datahealth` command line. Each command module registers its commands on the shared app."""

from datahealth.cli import checks_cmd, demo_cmd, metrics_cmd, profile_cmd, project_cmd, report_cmd, run_cmd  # noqa: F401  (registration)
from datahealth.cli.app import app

__all__ = ["app"]
