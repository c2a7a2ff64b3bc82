"""`datahealth publish test slack|email|pushgateway|report`: a real test message through a configured channel.

Run it after setting up a channel (and after rotating a token or password): it sends through exactly the
configuration a run would use and says what failed, naming the server (host:port), the HTTP status or
Slack's error code, with secrets masked. Exit status: 0 delivered, 1 delivery failed (unreachable,
refused, rejected), 2 the configuration is incomplete (nothing was sent).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from datahealth.cli.app import app
from datahealth.cli.common import (
    EXIT_FAILED,
    EXIT_INVALID,
    ProjectOption,
    console,
    fail,
    handled_errors,
    open_project,
)

publish_app = typer.Typer(
    help="Publishers: check that alerts, emails and metrics get where they should.", no_args_is_help=True
)
app.add_typer(publish_app, name="publish")

TARGETS = {"slack": "slack", "email": "email", "pushgateway": "prometheus", "report": "report"}
"""What `publish test` can test → the publisher that sends there."""


@publish_app.command("test")
def send_test_message(
    target: Annotated[str, typer.Argument(help="slack, email, pushgateway or report.")],
    project: ProjectOption = Path("."),
    to: Annotated[
        list[str] | None,
        typer.Option("--to", help="Send here instead: a Slack channel, or email addresses (repeatable)."),
    ] = None,
) -> None:
    """Send a test message through TARGET as configured and say exactly how it went.

    Exit 0: delivered. Exit 1: delivery failed (the message says where and why).
    Exit 2: the configuration is incomplete, so nothing was sent.
    """
    from datahealth.publish import REGISTRY
    from datahealth.publish.base import Delivery

    with handled_errors():
        if target not in TARGETS:
            raise ValueError(f"cannot test {target!r}: choose one of {', '.join(TARGETS)}")
        loaded = open_project(project)
        result = REGISTRY.get(TARGETS[target]).send_test(loaded, to or ())
    if result.ok:
        console.print(f"{target}: {result.message}", highlight=False, soft_wrap=True)
        return
    raise fail(
        f"{target}: {result.message}",
        EXIT_INVALID if result.delivery == Delivery.MISCONFIGURED else EXIT_FAILED,
    )
