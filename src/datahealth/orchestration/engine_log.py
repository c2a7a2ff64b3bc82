"""Keeps Prefect's engine from printing a traceback after the monitor already said why it failed.

A worker runs a deployed flow through `prefect.engine`, which asks for the flow's *result*: a flow that
ended Failed makes that call raise `FailedRun`, and the engine logs it as "Engine execution exited with
unexpected exception" with a traceback of Prefect's own frames, to the worker's output and the flow
run's log. When the data-health flow failed on purpose (flow.py returns a Failed state whose message is
the reason and the fix, already logged as "Finished in state Failed(...)"), that record repeats the
same line under forty lines of frames. This filter drops exactly that record, only for flow runs this
process ended that way; every other record, and every other run, is left alone.
"""

from __future__ import annotations

import logging
from uuid import UUID

from prefect.exceptions import FailedRun

ENGINE_LOGGER = "prefect.flow_runs"
ENGINE_MESSAGE = "Engine execution exited with unexpected exception"

_explained: set[str] = set()


class ExplainedFailureFilter(logging.Filter):
    """Drops the engine's traceback record for a flow run whose failure the flow already explained."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != ENGINE_MESSAGE or not record.exc_info:
            return True
        error = record.exc_info[1]
        run_id = str(getattr(record, "flow_run_id", "") or "")
        return not (isinstance(error, FailedRun) and run_id in _explained)


def mark_explained(flow_run_id: UUID | str | None) -> None:
    """Remember that this flow run ended in a Failed state the flow explained in one line."""
    if flow_run_id:
        _explained.add(str(flow_run_id))


def install() -> None:
    logger = logging.getLogger(ENGINE_LOGGER)
    if not any(isinstance(f, ExplainedFailureFilter) for f in logger.filters):
        logger.addFilter(ExplainedFailureFilter())
