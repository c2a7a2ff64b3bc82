"""Submits a run's tasks source by source, never more in flight per source than its limit.

Each source's datasets wait in the flow until a slot of that source frees up, instead of all being
submitted at once and then polling Prefect's tag limit for a slot (Prefect answers a full limit with
"retry after a while", which serialises a busy source into seconds of idle waiting). With this window a
single flow run never contends with itself; the `source:<name>` tag limits only make flow runs on
different workers share a source. Works with any task runner whose futures support done-callbacks
(threads, Dask).
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner


class SourceWindows:
    """Per-source sliding windows of in-flight task futures over one task runner."""

    def __init__(self, runner: TaskRunner[Any], limits: Mapping[str, int]) -> None:
        self.runner = runner
        self.limits = dict(limits)
        self._finished: queue.Queue[tuple[str, Any, PrefectFuture[Any]]] = queue.Queue()
        self._in_flight: dict[str, int] = {source: 0 for source in limits}
        self._waiting: dict[str, deque[tuple[Any, Callable[[], PrefectFuture[Any]]]]] = {
            source: deque() for source in limits
        }
        self._outstanding = 0

    def add(self, source: str, key: Any, submit: Callable[[], PrefectFuture[Any]]) -> None:
        """Queue a task for `source`; it is submitted as soon as the source has a free slot."""
        self._waiting[source].append((key, submit))
        self._outstanding += 1
        self._fill(source)

    def _fill(self, source: str) -> None:
        waiting = self._waiting[source]
        while waiting and self._in_flight[source] < self.limits[source]:
            key, submit = waiting.popleft()
            self._in_flight[source] += 1
            future = submit()
            future.add_done_callback(partial(self._on_done, source, key))

    def _on_done(self, source: str, key: Any, future: PrefectFuture[Any]) -> None:
        self._finished.put((source, key, future))

    def finished(self) -> tuple[str, Any, PrefectFuture[Any]] | None:
        """The next finished (source, key, future), or None when nothing is outstanding."""
        if self._outstanding == 0:
            return None
        source, key, future = self._finished.get()
        self._outstanding -= 1
        self._in_flight[source] -= 1
        self._fill(source)
        return source, key, future
