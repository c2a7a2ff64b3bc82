"""What a publisher is, and the ordered registry `publish_run` and `datahealth publish test` go through.

A publisher formats and sends what evaluation decided; it decides nothing. Each has a `name` (used in
warnings), says whether the project has it switched on (`enabled`), publishes a finished run
(`publish`), and sends a test message through its configured channel on request (`send_test`), so a
wrong host, port, token or password shows up before the first real alert is lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from datahealth.config.models import Project
from datahealth.core.redaction import redact
from datahealth.publish.context import PublishContext


class PublishError(Exception):
    """A publisher could not deliver; the message is one line, names the target and holds no secret."""


class Delivery(StrEnum):
    """How a test message fared: sent, refused or unreachable on the way, or never tried (configuration)."""

    SENT = "sent"
    FAILED = "failed"
    MISCONFIGURED = "misconfigured"


@dataclass(frozen=True)
class SendResult:
    """The outcome of `send_test`: what happened, in one secret-free sentence naming the target."""

    delivery: Delivery
    message: str

    @classmethod
    def sent(cls, message: str) -> SendResult:
        return cls(Delivery.SENT, redact(message))

    @classmethod
    def failed(cls, message: str) -> SendResult:
        return cls(Delivery.FAILED, redact(message))

    @classmethod
    def misconfigured(cls, message: str) -> SendResult:
        return cls(Delivery.MISCONFIGURED, redact(message))

    @property
    def ok(self) -> bool:
        return self.delivery == Delivery.SENT


class Publisher(Protocol):
    """One way of telling people about a run: the report, email, Prometheus metrics, Slack."""

    name: str

    def enabled(self, project: Project) -> bool:
        """Whether this project has the publisher switched on (a run may still ask for it explicitly)."""
        ...

    def publish(self, context: PublishContext) -> None:
        """Publish a finished run; raise (ideally `PublishError`) when it could not be delivered."""
        ...

    def send_test(self, project: Project, to: Sequence[str] = ()) -> SendResult:
        """Send a test message through the configured channel now, and say exactly how it went.

        `to` replaces the configured destination where there is a choice (email addresses, a Slack
        channel); the Pushgateway and the report directory have none.
        """
        ...


class Registry:
    """The publishers in the order they run (the report first, so the others can link to it)."""

    def __init__(self, publishers: Sequence[Publisher]) -> None:
        names = [p.name for p in publishers]
        if len(set(names)) != len(names):
            raise ValueError(f"publisher names must be unique: {names}")
        self._publishers = list(publishers)

    def __iter__(self) -> Iterator[Publisher]:
        return iter(self._publishers)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._publishers]

    def get(self, name: str) -> Publisher:
        for publisher in self._publishers:
            if publisher.name == name:
                return publisher
        raise KeyError(f"no publisher {name!r}; publishers: {', '.join(self.names)}")


def requested(context: PublishContext) -> set[str]:
    """Publishers this run asks for by name, whatever the project enables: `report` and `email` options."""
    asked = set()
    if context.options.report:
        asked.add("report")
    if context.options.email:
        asked.add("email")
    return asked
