"""The `datahealth` command line. Each command module registers its commands on the shared app."""

from datahealth.cli import (  # noqa: F401  (registration)
    automations_cmd,
    checks_cmd,
    demo_cmd,
    deploy_cmd,
    history_cmd,
    incidents_cmd,
    metrics_cmd,
    profile_cmd,
    project_cmd,
    publish_cmd,
    report_cmd,
    root_cmd,
    run_cmd,
    schema_cmd,
    serve_report_cmd,
)
from datahealth.cli.app import app

__all__ = ["app"]
