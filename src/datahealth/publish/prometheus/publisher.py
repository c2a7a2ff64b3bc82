"""The Prometheus publisher: at the end of each run, push the metrics and/or write them to a textfile.

Push semantics (docs/metrics.md, "Push"): the group is keyed by `job` only (no `instance`, so a run on
another worker replaces it rather than adding a second copy). A successful run PUTs the whole state,
which replaces the group: series of datasets removed from config disappear. A failed run (one that
could observe none of its datasets) POSTs everything except `datahealth_run_last_success_timestamp_seconds`:
POST replaces only the families it carries, so the last success pushed earlier stays and keeps ageing.
A Pushgateway that cannot be reached is a short, secret-free warning on the run, never a failed run.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import (
    basic_auth_handler,
    default_handler,
    delete_from_gateway,
    generate_latest,
    push_to_gateway,
    pushadd_to_gateway,
)

from datahealth.config.models import Project, PrometheusConfig
from datahealth.core.redaction import redact, register_secret
from datahealth.publish.base import PublishError, SendResult
from datahealth.publish.context import PublishContext
from datahealth.publish.prometheus.metrics import MetricsState, metric_families, registry_for
from datahealth.publish.prometheus.state import state_for_run

TEST_INSTANCE = "datahealth-publish-test"  # the grouping key of `send_test`'s group, never the real one


class MetricsPublishError(PublishError):
    """Metrics could not be delivered; the message is one line, names the target and holds no secret."""


class PrometheusPublisher:
    """Pushes the run's metrics to a Pushgateway and/or writes them to node_exporter's textfile."""

    name = "prometheus"

    def enabled(self, project: Project) -> bool:
        config = project.config.publish.prometheus
        return config.pushgateway_url is not None or config.textfile is not None

    def publish(self, context: PublishContext) -> None:
        publish_metrics(context)

    def send_test(self, project: Project, to: Sequence[str] = ()) -> SendResult:
        """Push a one-metric group to the Pushgateway and delete it again (the real group is left alone:
        the test group is keyed by `instance` as well as `job`)."""
        config = project.config.publish.prometheus
        if config.pushgateway_url is None:
            return SendResult.misconfigured(
                "publish.prometheus.pushgateway_url is not set (metrics go only to the textfile, if any)"
            )
        try:
            gateway, handler = _gateway(config.pushgateway_url)
        except ValueError as exc:
            return SendResult.misconfigured(f"publish.prometheus.pushgateway_url is not a usable URL: {exc}")
        registry = CollectorRegistry()
        Gauge(
            "datahealth_publish_test_timestamp_seconds",
            "When `datahealth publish test pushgateway` last pushed (deleted right after).",
            registry=registry,
        ).set_to_current_time()
        key, timeout = {"instance": TEST_INSTANCE}, config.push_timeout_seconds
        try:
            push_to_gateway(
                gateway, job=config.job, registry=registry, grouping_key=key, timeout=timeout, handler=handler
            )
        except Exception as exc:  # urllib raises URLError, HTTPError, TimeoutError, OSError ...
            return SendResult.failed(_cannot_push(gateway, exc))
        try:
            delete_from_gateway(gateway, job=config.job, grouping_key=key, timeout=timeout, handler=handler)
        except Exception as exc:
            return SendResult.failed(
                f"pushed a test group to the Pushgateway at {gateway} but cannot delete it ({_reason(exc)}); "
                f"delete the group job={config.job}, instance={TEST_INSTANCE} there by hand"
            )
        return SendResult.sent(
            f"pushed a test group to the Pushgateway at {gateway} (job {config.job}) and deleted it again"
        )


def publish_metrics(context: PublishContext) -> None:
    """Write the textfile and push to the Pushgateway, as configured; one error message for both."""
    config = context.project.config.publish.prometheus
    if config.pushgateway_url is None and config.textfile is None:
        return
    state = state_for_run(context)
    errors: list[str] = []
    if config.textfile is not None:
        try:
            write_textfile(context.project.resolve(config.textfile), state)
        except OSError as exc:
            errors.append(f"cannot write the metrics textfile {config.textfile}: {exc.strerror or exc}")
    if config.pushgateway_url is not None:
        try:
            push_metrics(config, state)
        except MetricsPublishError as exc:
            errors.append(str(exc))
    if errors:
        raise MetricsPublishError(redact("; ".join(errors)))


def render(state: MetricsState) -> bytes:
    """The state in Prometheus' text exposition format."""
    return generate_latest(registry_for(lambda: metric_families(state)))


def write_textfile(path: Path, state: MetricsState) -> None:
    """Write atomically (temp file in the same directory, then rename) so node_exporter never reads half a file.

    The temp name does not end in `.prom`, so the textfile collector ignores it while it is written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = render(state)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(temp, 0o644)  # node_exporter usually runs as another user
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def push_metrics(config: PrometheusConfig, state: MetricsState) -> None:
    """PUT after a successful run (replace the group), POST without the last-success family after a failed one."""
    assert config.pushgateway_url is not None
    gateway, handler = _gateway(config.pushgateway_url)
    succeeded = state.run is None or state.run.succeeded
    registry = registry_for(lambda: metric_families(state, last_success=succeeded))
    method = push_to_gateway if succeeded else pushadd_to_gateway
    try:
        method(
            gateway, job=config.job, registry=registry, timeout=config.push_timeout_seconds, handler=handler
        )
    except Exception as exc:  # urllib raises URLError, HTTPError, TimeoutError, OSError ...
        raise MetricsPublishError(_cannot_push(gateway, exc)) from None


Handler = Callable[..., Callable[[], None]]


def _gateway(url: str) -> tuple[str, Handler]:
    """Split credentials out of the URL: they go to a basic-auth handler, never into messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    if parts.username is None:
        return clean, default_handler
    username, password = unquote(parts.username), unquote(parts.password or "")
    register_secret(password)

    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        return basic_auth_handler(url, method, timeout, headers, data, username, password)

    return clean, handler


def _cannot_push(gateway: str, exc: BaseException) -> str:
    return f"cannot push metrics to the Pushgateway at {gateway}: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    """A short reason: 'connection refused', 'HTTP 400 Bad Request: <first line of the body>', 'timed out'."""
    if isinstance(exc, urllib.error.HTTPError):
        body = _first_line(exc.read())
        return f"HTTP {exc.code} {exc.reason}" + (f": {body}" if body else "")
    reason: Any = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return _first_line(str(reason)) or type(exc).__name__


def _first_line(text: str | bytes) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else ""
