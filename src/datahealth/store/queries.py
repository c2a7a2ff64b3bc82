"""Evaluation's read: everything it judges a run against, batched, composed of the read model's queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from datahealth.config.models import DatasetConfig
from datahealth.rules.evaluate import EvaluationHistory
from datahealth.store import read
from datahealth.store.repository import HistoryStore

HISTORY_MARGIN = timedelta(days=2)
"""Read this much more than the training window (period pairs at the edge)."""


def load_history(
    store: HistoryStore, datasets: Sequence[DatasetConfig], as_of: datetime
) -> EvaluationHistory:
    """The only I/O of evaluation: observations, profiles, baselines and open incidents, batched."""
    names = [d.name for d in datasets]
    with read.connect(store) as conn:
        if not names:
            return EvaluationHistory(open_incidents=read.open_incidents(conn))
        window = max(d.anomaly.training_window + 2 * d.anomaly.period for d in datasets) + HISTORY_MARGIN
        since = as_of - window
        observed = read.observation_history(conn, names, since=since, until=as_of)
        return EvaluationHistory(
            observations={name: [o for o in rows if o.as_of < as_of] for name, rows in observed.items()},
            profiles=read.profile_history(conn, names, since, as_of),
            baselines=read.accepted_schemas(conn, names, as_of),
            open_incidents=read.open_incidents(conn),
            recently_resolved=read.recently_resolved(
                conn, names, as_of - max(d.anomaly.reopen_within for d in datasets)
            ),
            active_incidents=[
                i for i in read.incidents_active_between(conn, since, as_of) if i.dataset in set(names)
            ],
        )
