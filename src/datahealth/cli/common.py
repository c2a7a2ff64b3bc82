"""What every command shares: the --project option, consoles, and turning known errors into exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from datahealth.config import ConfigError, Project, load_project
from datahealth.core.redaction import redact
from datahealth.monitor.selection import SelectionError
from datahealth.orchestration.failures import MonitorError, explain
from datahealth.store import HistoryStore, HistoryStoreError


def _console(stderr: bool = False) -> Console:
    """Rich consoles; when output is piped or captured, use a wide fixed width instead of 80 columns."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, width=width)


console = _console()
err_console = _console(stderr=True)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2

ProjectOption = Annotated[
    Path,
    typer.Option(
        "--project",
        "-p",
        envvar="DATAHEALTH_PROJECT",
        help="Monitoring project directory (holds sla_config/).",
        show_default=True,
    ),
]


def _known_format(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """`-f` takes the command's default format or json; anything else is one line and exit 2."""
    allowed = sorted({str(param.default), "json"})
    if value not in allowed:
        raise fail(f"--format {value!r} is not one of: {', '.join(allowed)}", EXIT_INVALID)
    return value


FormatOption = Annotated[
    str, typer.Option("--format", "-f", help="Output format: table or json.", callback=_known_format)
]


def fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(redact(message))}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def handled_errors() -> Iterator[None]:
    """Known failures become one clear message and an exit code; nothing prints a traceback or a secret."""
    try:
        yield
    except ConfigError as exc:
        err_console.print(redact(exc.render()), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    except (SelectionError, ValueError, KeyError) as exc:
        raise fail(str(exc).strip("'\""), EXIT_INVALID) from None
    except (HistoryStoreError, MonitorError) as exc:
        raise fail(explain(exc)) from None
    except OSError as exc:  # a file the command reads or writes
        where = f" {exc.filename}" if exc.filename else ""
        raise fail(f"cannot use{where}: {exc.strerror or exc}", EXIT_INVALID) from None


def writable_output(path: Path | None) -> None:
    """Refuse an output path that cannot be written (`-o /proc/version`) up front; missing folders are made."""
    if path is None:
        return
    target = path.expanduser()
    if target.is_dir():
        if not os.access(target, os.W_OK):
            raise fail(f"cannot write to the directory {target}: permission denied", EXIT_INVALID)
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)  # like `-o out/report.html` in a new folder
    except OSError as exc:
        raise fail(
            f"cannot write {target}: cannot create {target.parent} ({exc.strerror or exc})", EXIT_INVALID
        ) from None
    existed = target.exists()
    try:
        with target.open("ab"):
            pass
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}", EXIT_INVALID) from None
    if not existed:
        target.unlink(missing_ok=True)


def open_project(path: Path, *, source_secrets: bool = True) -> Project:
    """The project; commands that only read the history store pass `source_secrets=False`."""
    return load_project(path, source_secrets=source_secrets)


def open_store(project: Project) -> HistoryStore:
    return HistoryStore.open(project.config.history.url, project.root)


def is_tty() -> bool:
    return sys.stdout.isatty()


def serve_until_stopped(
    start: Callable[[], AbstractContextManager[Any]], host: str, port: int, announce: Callable[[int], str]
) -> None:
    """Run a background HTTP server (`serve-report`, `serve-metrics`) until SIGTERM or Ctrl-C.

    `start()` opens the server (a port in use is one line, not a traceback); `announce(port)` is the line
    printed once it listens, with the port it really got (`--port 0` picks a free one)."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(start())
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        err_console.print(announce(server.server_port), highlight=False)
        stop.wait()
