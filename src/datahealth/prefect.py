"""datahealth for Prefect users: quality gates for downstream flows (docs/prefect.md).

```python
from datahealth.prefect import require_healthy

@flow
def campaign_send():
    require_healthy(["warehouse.orders", "crm.*"], project_dir="/srv/monitoring", on_unhealthy="wait")
    ...
```
"""

from __future__ import annotations

from datahealth.orchestration.gates import (
    GateVerdict,
    UnhealthyInputs,
    check_inputs,
    require_healthy,
    wait_for_healthy,
)

__all__ = ["GateVerdict", "UnhealthyInputs", "check_inputs", "require_healthy", "wait_for_healthy"]
