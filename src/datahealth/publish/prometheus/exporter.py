"""`/metrics` served from the history store: each scrape reads the store's latest state.

Nothing is kept in memory between scrapes, so the exporter can be restarted (or run next to any number
of workers sharing a PostgreSQL store) and still tells the truth: a monitor that stopped running keeps
its last success timestamp, which keeps ageing in PromQL.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.core import Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import CollectorRegistry

from datahealth.config.models import Project
from datahealth.core.redaction import redact
from datahealth.core.serving import LISTEN_BACKLOG, serving_in_background
from datahealth.publish.prometheus.metrics import metric_families, registry_for
from datahealth.publish.prometheus.state import stale_after_for, state_from_store
from datahealth.store import HistoryStore

log = logging.getLogger("datahealth.exporter")


class MetricsUnavailable(Exception):
    """The history store could not be read for a scrape (the message is secret-free)."""


def store_registry(project: Project, store: HistoryStore) -> CollectorRegistry:
    """A registry whose every collection reads the store (the schedule-derived staleness is computed once)."""
    stale = stale_after_for(project, store)

    def build() -> list[Metric]:
        try:
            return metric_families(state_from_store(project, store, stale_after_seconds=stale))
        except Exception as exc:  # a failed scrape shows as up == 0 in Prometheus; say why in the log
            reason = redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
            log.error("cannot read the history store for /metrics: %s", reason)
            raise MetricsUnavailable(reason) from None

    return registry_for(build)


@contextmanager
def serve_metrics(project: Project, store: HistoryStore, host: str, port: int) -> Iterator[WSGIServer]:
    """Serve on host:port (0: any free port) in a daemon thread until the block ends; OSError if it cannot bind.

    One thread per request (prometheus_client's threading server) behind a real listen backlog.
    """
    server_class = type(
        "MetricsServer",
        (ThreadingWSGIServer,),
        {"request_queue_size": LISTEN_BACKLOG, "address_family": _family(host, port)},
    )
    app = make_wsgi_app(store_registry(project, store))
    server: WSGIServer = make_server(host, port, app, server_class, handler_class=_QuietHandler)
    with serving_in_background(server, "datahealth-metrics"):
        yield server


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape on stderr."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        return


def _family(host: str, port: int) -> socket.AddressFamily:
    """IPv4 or IPv6, whichever the host name resolves to first (as prometheus_client does)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return infos[0][0]
