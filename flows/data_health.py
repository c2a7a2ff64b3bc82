"""Deployment entrypoint: `prefect.yaml` points at `flows/data_health.py:data_health`.

The flow itself lives in the datahealth package (`datahealth.orchestration.flow`) so that every
monitoring project runs the same, upgradable code; this file is what a project keeps in git.
Parameters (set per deployment in prefect.yaml, or per run in the UI): `tier`, `datasets` (glob
patterns), `shard`/`shards`, `as_of`, `publish`, `task_runner` (`threads` or `dask`).
Run it directly with `python flows/data_health.py` (same as `datahealth run`).
"""

from datahealth.orchestration.flow import data_health

__all__ = ["data_health"]

if __name__ == "__main__":
    data_health()
