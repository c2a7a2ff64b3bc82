"""Findings as read back: what a run found, per dataset over a window, or of given runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.redaction import redact
from datahealth.store.read.base import Reader, as_dict, connect
from datahealth.store.tables import findings

# Read without `as_of` (placed through their run instead): parsing a timestamp per row is the costly part.
_COLUMNS = (
    findings.c.id,
    findings.c.run_id,
    findings.c.dataset,
    findings.c.fingerprint,
    findings.c.kind,
    findings.c.subject,
    findings.c.severity,
    findings.c.message,
    findings.c.details,
)


@dataclass(frozen=True)
class StoredFinding:
    """A row of `findings`: one problem one run saw. `details` keeps the rule's own numbers (bands, metric)."""

    run_id: str
    dataset: str
    fingerprint: str
    kind: str
    subject: str
    severity: str
    title: str
    message: str
    observed: str | None = None
    expected: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def stored_finding(row: Any) -> StoredFinding:
    """The one mapping of a `findings` row (title, observed and expected live in its details)."""
    details = as_dict(row["details"])
    return StoredFinding(
        run_id=row["run_id"],
        dataset=row["dataset"],
        fingerprint=row["fingerprint"],
        kind=row["kind"],
        subject=row["subject"] or "",
        severity=row["severity"],
        title=redact(details.get("title") or row["message"]),
        message=redact(row["message"]),
        observed=_text(details.get("observed")),
        expected=_text(details.get("expected")),
        details=details,
    )


def _text(value: Any) -> str | None:
    return None if value is None else redact(value)


def findings_between(
    db: Reader, datasets: Sequence[str], start: datetime, end: datetime
) -> list[StoredFinding]:
    """The findings of `datasets` as of a time in [start, end], in the order they were written."""
    query = (
        sa.select(*_COLUMNS)
        .where(findings.c.dataset.in_(list(datasets)), findings.c.as_of >= start, findings.c.as_of <= end)
        .order_by(findings.c.id)
    )  # dataset first: served by ix_findings_dataset_as_of, not a table scan
    with connect(db) as conn:
        return [stored_finding(row) for row in conn.execute(query).mappings()]


def run_findings(db: Reader, run_ids: str | Sequence[str], kind: str | None = None) -> list[StoredFinding]:
    """The findings of one run (or several), optionally of one kind, in the order they were written."""
    ids = [run_ids] if isinstance(run_ids, str) else sorted(set(run_ids))
    if not ids:
        return []
    query = sa.select(*_COLUMNS).where(findings.c.run_id.in_(ids))
    if kind is not None:
        query = query.where(findings.c.kind == kind)
    with connect(db) as conn:
        return [stored_finding(row) for row in conn.execute(query.order_by(findings.c.id)).mappings()]
