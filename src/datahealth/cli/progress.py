"""Progress that reaches whoever is watching: a live rich bar on a terminal, plain lines elsewhere.

A rich live display writes nothing while output is piped (`make demo | cat`, CI logs, `| tee`), so a
long command looked dead for minutes. Off a terminal every step is one flushed line on stderr instead,
with the elapsed time, e.g. `[ 3/12  4.1s] observed warehouse.orders`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class StepProgress:
    """`step(description)` advances by one; `note(text)` says what is happening without advancing;
    `say(text)` prints a message that stays."""

    def __init__(self, console: Console, total: int | None, first: str, *, quiet: bool = False) -> None:
        self.console, self.total, self.quiet = console, total, quiet
        self.live = console.is_terminal and not quiet
        self.done = 0
        self.started = time.perf_counter()
        self._bar: Progress | None = None
        if self.live:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._task = self._bar.add_task(first, total=total)
        else:
            self._line(first)

    def __enter__(self) -> StepProgress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)

    def step(self, description: str) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=description)
        else:
            self._line(description)

    def note(self, description: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=description)
        else:
            self._line(description)

    def say(self, text: str) -> None:
        """A message that stays: a line above the live bar on a terminal, a progress line elsewhere."""
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        else:
            self._line(text)

    def _line(self, text: str) -> None:
        if self.quiet:
            return
        count = f"{self.done:>{len(str(self.total))}}/{self.total} " if self.total else ""
        self.console.print(
            f"[{count}{time.perf_counter() - self.started:5.1f}s] {escape(text)}",
            highlight=False,
            markup=False,
        )
        self.console.file.flush()


@contextmanager
def step_progress(
    console: Console, total: int | None, first: str, *, quiet: bool = False
) -> Iterator[StepProgress]:
    with StepProgress(console, total, first, quiet=quiet) as progress:
        yield progress
