"""Publishers: each formats and sends what evaluation decided. None of them decides anything.

`REGISTRY` holds them in the order they run: the report first (the email sends it, alerts link to it),
then the email, Prometheus and Slack. `publish_run` calls each one the project enables or the run asks
for; a publisher that fails (Pushgateway down, SMTP refused) adds a warning to the run instead of
failing it, and undelivered alerts and emails wait in the history store.
"""

from __future__ import annotations

import logging

from datahealth.core.redaction import redact
from datahealth.publish.base import Publisher, PublishError, Registry, SendResult, requested
from datahealth.publish.context import PublishContext
from datahealth.publish.email import EmailPublisher
from datahealth.publish.prometheus.publisher import PrometheusPublisher
from datahealth.publish.report import ReportPublisher
from datahealth.publish.slack.publisher import SlackPublisher

log = logging.getLogger("datahealth.publish")

REGISTRY = Registry([ReportPublisher(), EmailPublisher(), PrometheusPublisher(), SlackPublisher()])


def publish_run(context: PublishContext, publishers: Registry = REGISTRY) -> list[str]:
    """Run every publisher that is enabled or asked for, in order; return a warning per failure (secrets
    masked), as `<name>: <error type>: <what went wrong>`."""
    warnings: list[str] = []
    asked = requested(context)
    for publisher in publishers:
        if not (publisher.enabled(context.project) or publisher.name in asked):
            continue
        try:
            publisher.publish(context)
        except Exception as exc:  # a publisher must never fail the run
            message = redact(f"{publisher.name}: {type(exc).__name__}: {exc}".splitlines()[0])
            log.warning("publisher %s", message)
            warnings.append(message)
    return warnings


__all__ = ["REGISTRY", "PublishContext", "PublishError", "Publisher", "Registry", "SendResult", "publish_run"]
