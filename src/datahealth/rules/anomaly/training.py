"""Which earlier runs a metric learns from: runs inside one of its incidents are left out. Pure.

A robust band copes with one bad day in its training window, not with five: on a busy table with a
fault every few days, a fifth of the window can be outages, spikes and late loads, and the band widens
until the next one fits inside it. Mature monitors therefore learn only from runs that were not
themselves anomalous. Here, a run is left out of a metric's training data when it falls inside an
incident about that metric (opened, and not yet resolved, at that run): a volume anomaly or a freshness
breach for the volume series, the column metric's own anomaly for a column metric.

Leaving out has limits, so a real change of level becomes the new normal instead of an endless alert:
the shortest incidents are left out first, never more than `max_share` of the window's runs, and never
so many that fewer than the minimum training runs remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from datahealth.rules.findings import FindingKind, Incident

VOLUME = "volume"


class Timed(Protocol):
    @property
    def at(self) -> datetime: ...


T = TypeVar("T", bound=Timed)


@dataclass(frozen=True)
class Span:
    """The runs of one incident about `subject`: from when it opened until it resolved (or now)."""

    subject: str
    start: datetime
    end: datetime | None = None  # still open

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


def incident_spans(incidents: Sequence[Incident], dataset: str) -> tuple[Span, ...]:
    """The spans of a dataset's metric incidents: anomalies by subject, freshness breaches as volume."""
    spans: list[Span] = []
    for incident in incidents:
        if incident.dataset != dataset:
            continue
        if incident.kind == FindingKind.ANOMALY.value and incident.subject:
            spans.append(Span(incident.subject, incident.opened_at, incident.resolved_at))
        elif incident.kind == FindingKind.FRESHNESS.value:  # a late load is a gap, then a double day
            spans.append(Span(VOLUME, incident.opened_at, incident.resolved_at))
    return tuple(spans)


def leave_out(points: Sequence[T], spans: Sequence[Span], *, keep_at_least: int, max_share: float) -> list[T]:
    """`points` without those inside `spans`, shortest spans first, within the limits above."""
    if not spans or not points:
        return list(points)
    kept = list(points)
    allowed = int(len(points) * max_share)
    dropped = 0
    for span in sorted(spans, key=lambda s: (s.end or points[-1].at) - s.start):
        inside = [p for p in kept if span.covers(p.at)]
        if not inside or dropped + len(inside) > allowed or len(kept) - len(inside) < keep_at_least:
            continue
        kept = [p for p in kept if not span.covers(p.at)]
        dropped += len(inside)
    return kept
