"""How a flow run spreads its work: the task runner (threads or Dask) and per-source concurrency limits.

Per-source limits are Prefect global concurrency limits named `source-<name>` (limit = the source's
`max_concurrency`), shared by every flow run on every worker. A flow run reserves slots once per source
(as many as are free, at least one, waiting for that one) and keeps that many of the source's tasks in
flight; it releases them when the source's last task ends. Tag limits on every task would do the same
job but cost each task a lease round-trip and a renewal thread, and a full limit answers "retry after a
few seconds" (measured in docs/scaling.md), so they are not used for this.

Limits must exist before the first acquisition in a process (Prefect caches missing task-tag limits per
process); the flow creates missing ones before it starts, and `datahealth deploy` at deploy time.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from datahealth.config.models import Project, ProjectSettings

TASK_RUNNERS = ("threads", "dask")
log = logging.getLogger("datahealth.orchestration")


def source_tag(source: str) -> str:
    """The tag on every task of a source: filter the UI's task runs by it."""
    return f"source:{source}"


def limit_name(source: str) -> str:
    return f"source-{source}"


def source_limits(project: Project, sources: list[str] | None = None) -> dict[str, int]:
    """Limit name → slots for the given sources (all when None): each source's `max_concurrency`."""
    configured = project.config.sources
    names = sorted(configured) if sources is None else sorted(set(sources) & set(configured))
    return {limit_name(name): configured[name].max_concurrency for name in names}


def ensure_concurrency_limits(limits: Mapping[str, int]) -> list[str]:
    """Create the limits that do not exist yet (a limit an operator tuned is left alone); returns those created."""
    created = []
    with get_client(sync_client=True) as client:
        for name, limit in limits.items():
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=limit))
                created.append(name)
    return created


class SourceSlots:
    """Slots this flow run holds per source; `reserve` blocks until at least one is free."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._held: dict[str, ExitStack] = {}
        self._releasing: list[threading.Thread] = []

    def reserve(self, source: str, wanted: int) -> int:
        """Take up to `wanted` slots of the source's limit (all-or-halving tries, then wait for one)."""
        if not self.enabled:
            return wanted
        stack = ExitStack()
        self._held[source] = stack
        tries = wanted
        while tries > 1:
            try:
                stack.enter_context(concurrency(limit_name(source), occupy=tries, max_retries=0))
                return tries
            except ConcurrencySlotAcquisitionError:
                tries //= 2
        stack.enter_context(concurrency(limit_name(source), occupy=1))
        return 1

    def release(self, source: str) -> None:
        """Give the source's slots back, in the background: stopping a lease's renewal takes ~0.3 s."""
        stack = self._held.pop(source, None)
        if stack is not None:
            thread = threading.Thread(target=stack.close, name=f"release-{source}", daemon=True)
            thread.start()
            self._releasing.append(thread)

    def release_all(self) -> None:
        for source in list(self._held):
            self.release(source)
        for thread in self._releasing:
            thread.join()
        self._releasing.clear()


def task_runner_kind(requested: str | None, settings: ProjectSettings) -> str:
    """Parameter, then DATAHEALTH_TASK_RUNNER, then `project.task_runner` in sla_config."""
    kind = (requested or os.environ.get("DATAHEALTH_TASK_RUNNER") or settings.task_runner).strip().lower()
    if kind not in TASK_RUNNERS:
        raise ValueError(f"task_runner {kind!r} is not one of: {', '.join(TASK_RUNNERS)}")
    return kind


def make_task_runner(kind: str, settings: ProjectSettings) -> TaskRunner[Any]:
    """A thread pool (default) or a Dask runner: an existing cluster when an address is set, else a local one."""
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=settings.max_workers)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ValueError("task_runner 'dask' needs prefect-dask: pip install 'datahealth[dask]'") from None
    address = os.environ.get("DATAHEALTH_DASK_ADDRESS") or settings.dask_address
    if address:
        return DaskTaskRunner(address=address)
    processes = os.environ.get("DATAHEALTH_DASK_PROCESSES", "false").lower() in ("1", "true", "yes")
    workers = 2 if processes else 1
    cluster: dict[str, Any] = {
        "n_workers": workers,
        "threads_per_worker": max(1, settings.max_workers // workers),
        "processes": processes,
        "dashboard_address": "127.0.0.1:0",  # loopback, any free port (never the shared :8787)
    }
    if processes:  # worker processes talk TCP: keep it on loopback (threads use in-process transport)
        cluster["host"] = "127.0.0.1"
    return DaskTaskRunner(cluster_kwargs=cluster)
