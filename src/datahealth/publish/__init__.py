"""Publishers: each formats and sends what evaluation decided. None of them decides anything.

`publish_run` calls every publisher in turn; a publisher that fails (Pushgateway down, SMTP refused)
adds a warning to the run instead of failing it, and undelivered alerts wait in the history store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from datahealth.core.redaction import redact
from datahealth.publish.context import PublishContext
from datahealth.publish.prometheus.publisher import publish_metrics
from datahealth.publish.report import publish_report
from datahealth.publish.slack.publisher import publish_slack

log = logging.getLogger("datahealth.publish")

Publisher = Callable[[PublishContext], None]


def publishers() -> list[tuple[str, Publisher]]:
    """The publishers in the order they run (the report first, so alerts can link to it)."""
    return [("report", publish_report), ("prometheus", publish_metrics), ("slack", publish_slack)]


def publish_run(context: PublishContext) -> list[str]:
    """Run every publisher; return warnings for those that failed (secrets masked)."""
    warnings: list[str] = []
    for name, publisher in publishers():
        try:
            publisher(context)
        except Exception as exc:  # a publisher must never fail the run
            message = redact(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0])
            log.warning("publisher %s", message)
            warnings.append(message)
    return warnings
