"""The report tests' built history (`history`), for the email publisher's tests."""

from tests.report.conftest import history, history_template  # noqa: F401  (fixtures)
