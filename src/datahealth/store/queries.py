"""The read model of the history store: what evaluation, publishers and the report read, written once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from datahealth.config.models import DatasetConfig
from datahealth.rules.evaluate import EvaluationHistory
from datahealth.store.incidents import accepted_schemas, open_incidents, profile_history
from datahealth.store.repository import HistoryStore

HISTORY_MARGIN = timedelta(days=2)
"""Read this much more than the training window (period pairs at the edge)."""


def load_history(
    store: HistoryStore, datasets: Sequence[DatasetConfig], as_of: datetime
) -> EvaluationHistory:
    """The only I/O of evaluation: observations, profiles, baselines and open incidents, batched."""
    names = [d.name for d in datasets]
    if not names:
        return EvaluationHistory(open_incidents=open_incidents(store))
    window = max(d.anomaly.training_window + 2 * d.anomaly.period for d in datasets) + HISTORY_MARGIN
    since = as_of - window
    observed = store.observation_history(names, since=since, until=as_of)
    return EvaluationHistory(
        observations={name: [o for o in rows if o.as_of < as_of] for name, rows in observed.items()},
        profiles=profile_history(store, names, since, as_of),
        baselines=accepted_schemas(store, names, as_of),
        open_incidents=open_incidents(store),
    )
