"""What every read shares: a reader (the store, or a connection a caller already holds) and run windows.

Every read function takes a `Reader`: the `HistoryStore` (each call opens and returns a connection) or an
open `sa.Connection`, so a caller that reads many things at once, like the report, uses one connection
for all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from datahealth.core.results import as_utc
from datahealth.store.repository import HistoryStore
from datahealth.store.tables import runs

Reader = HistoryStore | sa.Connection


@contextlib.contextmanager
def connect(db: Reader) -> Iterator[sa.Connection]:
    """The caller's connection as it is, or a fresh one from the store's pool for this read."""
    if isinstance(db, sa.Connection):
        yield db
        return
    with db.engine.connect() as conn:
        yield conn


def as_datetime(value: Any) -> datetime | None:
    """A timestamp read back as UTC; `max()` over a timestamp column may come back as text on SQLite."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return as_utc(value)


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON column that should hold an object: anything else (NULL, a list) reads as empty."""
    return value if isinstance(value, dict) else {}


_MAX_LISTED_RUNS = 5000  # beyond this, select the runs by time in SQL instead of listing their ids


@dataclass(frozen=True)
class RunWindow:
    """The runs a time series shows: their ids, and the time span they fall in (used when there are many)."""

    run_ids: Sequence[str]
    start: datetime
    end: datetime

    def covers(self, table: sa.Table) -> sa.ColumnElement[bool]:
        """Rows of these runs, found through the table's run_id index (not a scan of all history)."""
        if len(self.run_ids) <= _MAX_LISTED_RUNS:
            return table.c.run_id.in_(list(self.run_ids))
        return table.c.run_id.in_(
            sa.select(runs.c.id).where(runs.c.as_of >= self.start, runs.c.as_of <= self.end)
        )


def window_rows(
    db: Reader, window: RunWindow, *columns: sa.Column[Any], order_by: Sequence[Any]
) -> list[Any]:
    """`columns` (of one table) of the rows of the window's runs, in `order_by` order, as the driver's plain
    tuples. For the few hundred thousand profile and check rows of a large report, building SQLAlchemy
    Row objects costs more than the query; only use this for columns (ints, text, floats) that need no
    result processing."""
    query = sa.select(*columns).where(window.covers(columns[0].table)).order_by(*order_by)
    with connect(db) as conn:
        result = conn.execute(query)
        try:
            return list(result.cursor.fetchall())
        finally:
            result.close()


def newest_per_dataset(
    table: sa.Table, datasets: Sequence[str] | None, as_of: datetime | None
) -> sa.Select[Any]:
    """`table`'s rows as of each dataset's newest as-of time (optionally not after `as_of`), by write order.

    "Newest" is by as-of time, never by id: a backfill of an earlier day written after newer runs is
    history, not the current state. Rows of two writes as of the same time (a re-run) both come back,
    later write last. Index-served: both steps use the table's (dataset, as_of) index.
    """
    newest = sa.select(table.c.dataset, sa.func.max(table.c.as_of).label("as_of")).group_by(table.c.dataset)
    if datasets is not None:
        newest = newest.where(table.c.dataset.in_(list(datasets)))
    if as_of is not None:
        newest = newest.where(table.c.as_of <= as_of)
    sub = newest.subquery()
    on = sa.and_(table.c.dataset == sub.c.dataset, table.c.as_of == sub.c.as_of)
    return sa.select(table).join(sub, on).order_by(table.c.id)


class _PerObservation(Protocol):
    @property
    def dataset(self) -> str: ...
    @property
    def observation_id(self) -> int: ...


R = TypeVar("R", bound=_PerObservation)


def newest_set(rows: Iterable[R]) -> dict[str, list[R]]:
    """Per dataset, the rows of its newest observation only (of two as of the same time, the later write)."""
    ordered = list(rows)
    newest: dict[str, int] = {}
    for row in ordered:
        newest[row.dataset] = max(newest.get(row.dataset, row.observation_id), row.observation_id)
    grouped: dict[str, list[R]] = {}
    for row in ordered:
        if row.observation_id == newest[row.dataset]:
            grouped.setdefault(row.dataset, []).append(row)
    return grouped
