"""What a table format's metadata says about its current version, without reading data files.

Delta Lake (`delta.py`) and Iceberg (`iceberg.py`) both answer with a `TableState`: the schema, the row
count of the current version, when the last commit/snapshot landed and how many rows it added. Profiles
and checks read the current version through Arrow (`read`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class TableState:
    schema: pa.Schema
    row_count: int | None
    last_commit: datetime | None
    rows_added_last_commit: int | None
    version: str
    read: Callable[[], pa.Table]
    details: dict[str, Any] = field(default_factory=dict)
