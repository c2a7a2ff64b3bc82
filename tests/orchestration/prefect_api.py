"""Reads a flow run back through the Prefect API, the way an operator's UI sees it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
)


@dataclass
class RunView:
    state: str
    name: str
    parameters: dict[str, Any]
    tasks: dict[str, tuple[str, int]]  # task run name -> (state type, run count)
    artifacts: dict[str, tuple[str, Any]]  # key -> (type, data; tables parsed)
    task_states: dict[str, str] = field(default_factory=dict)  # task run name -> state name ("Skipped")
    message: str = ""  # the flow run's final state message


def read_run(flow_run_id: UUID | str) -> RunView:
    run_id = UUID(str(flow_run_id))
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    return RunView(
        state=run.state.type.value if run.state else "UNKNOWN",
        name=run.name,
        parameters=dict(run.parameters),
        tasks={t.name: (t.state.type.value if t.state else "UNKNOWN", t.run_count) for t in task_runs},
        artifacts={
            a.key: (a.type, json.loads(a.data) if a.type == "table" else a.data) for a in artifacts if a.key
        },
        task_states={t.name: t.state.name if t.state else "" for t in task_runs},
        message=(run.state.message or "") if run.state else "",
    )
