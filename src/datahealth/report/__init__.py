"""The HTML data-health report: `data` gathers it from the history store, `render` writes the page.

Publishers and commands call `render_project_report`; Slack and Prefect artifacts link to it with
`report_url`.
"""

from datahealth.report.data import ReportData, gather_report_data
from datahealth.report.render import (
    BuiltReport,
    ReportFiles,
    render_email,
    render_project_report,
    render_report_html,
    report_url,
)

__all__ = [
    "BuiltReport",
    "ReportData",
    "ReportFiles",
    "gather_report_data",
    "render_email",
    "render_project_report",
    "render_report_html",
    "report_url",
]
