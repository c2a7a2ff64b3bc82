"""The Slack publisher: alert on what changed, through a queue that survives Slack being down.

Order of work in a run:
1. plan the messages (slack_plan: routing, quiet/suppressed incidents, digests, threads vs notices);
2. enqueue every one of them in the `deliveries` table *before* the first attempt;
3. drain the queue oldest first, so what an earlier run could not deliver goes out before this run's news;
   a reply finds its thread at send time, so it works even when its parent was queued by an earlier run.
Slack trouble never fails the flow: what is still undelivered after the bounded retries stays queued,
and the run gets one short warning. With no token or webhook configured (the demo), the messages are
rendered into `preview_file` instead, so users can see exactly what would be sent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from datahealth.config.models import Project, SlackConfig
from datahealth.core.redaction import redact
from datahealth.core.results import as_utc
from datahealth.publish.base import SendResult
from datahealth.publish.context import PublishContext
from datahealth.publish.slack import threads
from datahealth.publish.slack.client import (
    Posted,
    RetryBudget,
    SlackDeliveryError,
    SlackTransport,
    open_transport,
)
from datahealth.publish.slack.plan import DIGEST, NOTICE, POST, REPLY, UPDATE, Plan, PlanState, plan_messages
from datahealth.publish.slack.preview import preview_run
from datahealth.store import HistoryStore, read
from datahealth.store import deliveries as queue

log = logging.getLogger("datahealth.publish.slack.publisher")

CHANNEL = "slack"  # the deliveries-table channel of Slack messages
_GONE = {"thread_not_found", "message_not_found", "cant_update_message"}  # the original was deleted
DEFAULT_API_URL = "https://slack.com/api/"  # slack_sdk's, used when publish.slack.base_url is not set
TEST_RETRY_SECONDS = 5.0  # a test message reports trouble quickly instead of waiting out the run's budget


@dataclass
class DrainReport:
    sent: int = 0
    given_up: int = 0
    left: int = 0
    requeued: int = 0  # claimed by a run that stopped mid-send, back in the queue
    errors: list[str] = field(default_factory=list)


class SlackPublisher:
    """Alerts in Slack: one message per incident, updates in its thread; a preview file when not configured."""

    name = "slack"

    def enabled(self, project: Project) -> bool:
        """Always: without a token or webhook the messages are previewed in a file instead (the demo)."""
        return True

    def publish(self, context: PublishContext) -> None:
        publish_slack(context)

    def send_test(self, project: Project, to: Sequence[str] = ()) -> SendResult:
        """Post a test message to `to` (default: `publish.slack.default_channel`) the way alerts go out."""
        config = project.config.publish.slack
        budget = RetryBudget(min(config.retry_budget.total_seconds(), TEST_RETRY_SECONDS))
        transport, mode = open_transport(config, budget)
        if transport is None:
            return SendResult.misconfigured(
                f"Slack is not configured ({mode}): set publish.slack.token_env (a bot token) or "
                "webhook_url_env to the name of an environment variable that holds it"
            )
        channel = to[0] if to else config.default_channel
        target = transport.target_for(channel)
        where = f"{mode} via {_endpoint(config, mode, target)}"
        text = (
            f"datahealth test message from {project.config.project.name}: alerts for {channel} arrive here."
        )
        try:
            posted = transport.post(
                target, text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
            )
        except SlackDeliveryError as exc:
            code = f" (Slack error code {exc.code})" if exc.code and exc.code not in str(exc) else ""
            return SendResult.failed(
                f"the test message to {channel} was not delivered ({where}): {exc}{code}"
            )
        return SendResult.sent(
            f"posted a test message to {channel} ({where}" + (f", ts {posted.ts})" if posted.ts else ")")
        )


def _endpoint(config: SlackConfig, mode: str, target: str) -> str:
    """host:port of the Slack endpoint a message to `target` goes to (a webhook URL's secret path left out)."""
    if mode == "bot":
        url = config.base_url or DEFAULT_API_URL
    else:
        url = os.environ.get(config.webhooks.get(target) or config.webhook_url_env or "", "")
    parts = urlsplit(url.strip())
    return (
        parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "an unreadable URL"
    )


def publish_slack(context: PublishContext) -> None:
    """Send (or preview) this run's Slack alerts; never raises for Slack's sake."""
    config = context.project.config.publish.slack
    budget = RetryBudget(config.retry_budget.total_seconds())
    transport, mode = open_transport(config, budget)
    if transport is None:
        path, plan = preview_run(context, reason=mode)
        context.artifacts["slack_preview"] = str(path)
        _summarise(context, mode="preview", plan=plan, report=DrainReport(), preview=str(path))
        log.info("slack: not configured (%s); %d message(s) previewed in %s", mode, len(plan.messages), path)
        return
    store = context.store
    changes = context.evaluation.changes
    state = PlanState(
        threads=transport.threads,
        announced=read.announced(store, [c.incident.id for c in changes]) | _queued(store),
        last_alerts=read.last_alerts(store, [c.incident.fingerprint for c in changes]),
    )
    plan = plan_messages(context, state, transport.target_for)
    for item in plan.messages:
        queue.enqueue(
            store,
            channel=CHANNEL,
            target=item.target,
            kind=item.kind,
            payload=item.payload(context.as_of),
            incident_id=item.incident_id,
            run_id=context.run_id,
        )
    report = drain(store, transport)
    _summarise(context, mode=mode, plan=plan, report=report)
    if report.requeued:
        context.summary.warnings.append(
            f"slack: {report.requeued} message(s) claimed by a run that stopped mid-send were re-queued"
        )
    if report.left or report.given_up:
        context.summary.warnings.append(_warning(report))


def drain(store: HistoryStore, transport: SlackTransport) -> DrainReport:
    """Deliver queued messages oldest first; stop (keeping the rest) when Slack as a whole is unavailable.

    A channel-level problem (bot not in the channel) holds back that channel's later messages only, so a
    reply never overtakes its parent; a message Slack can never accept is given up and reported. Each
    message is claimed before it is sent, so two runs draining at once never send one twice.
    """
    report = DrainReport()
    report.requeued = queue.release_expired(store, CHANNEL)
    blocked = queue.claimed_targets(store, CHANNEL)  # a concurrent run is sending there: keep the order
    seen: set[int] = set()
    stopped = False
    while not stopped:
        batch = [d for d in queue.pending(store, CHANNEL) if d.id not in seen]
        if not batch:
            break
        for delivery in batch:
            seen.add(delivery.id)
            if stopped or delivery.target in blocked:
                report.left += 1
                continue
            if not queue.claim(store, delivery.id):
                blocked.add(delivery.target)
                continue
            try:
                ref = deliver(store, transport, delivery)
            except SlackDeliveryError as exc:
                error = f"{delivery.target}: {exc}"
                report.errors.append(error)
                queue.mark_attempt_failed(store, delivery.id, error, give_up=exc.scope == "message")
                if exc.scope == "message":
                    report.given_up += 1
                    continue
                report.left += 1
                if exc.scope == "channel":
                    blocked.add(delivery.target)
                else:
                    stopped = True
                continue
            except Exception as exc:  # our own failure (history store, a bug): keep the message, stop here
                error = f"{delivery.target}: {type(exc).__name__}: {exc}".splitlines()[0]
                report.errors.append(error)
                report.left += 1
                queue.mark_attempt_failed(store, delivery.id, error)
                stopped = True
                continue
            queue.mark_sent(store, delivery.id, ref)
            report.sent += 1
    return report


def deliver(store: HistoryStore, transport: SlackTransport, delivery: queue.Delivery) -> str | None:
    """Send one queued message; returns the message ts (or a note) kept as the delivery's external ref."""
    payload, target = delivery.payload, delivery.target
    text, blocks = str(payload.get("text", "")), list(payload.get("blocks", []))
    alert_at = _as_of(payload)
    if delivery.kind in (POST, DIGEST, NOTICE):
        posted = transport.post(target, text, blocks)
        if delivery.kind != NOTICE:
            for incident_id in payload.get("announces", []):
                threads.record(
                    store,
                    int(incident_id),
                    target,
                    ts=posted.ts or "",
                    channel_id=posted.channel_id,
                    digest=delivery.kind == DIGEST,
                    alert_at=alert_at,
                )
        return posted.ts
    thread = read.find_thread(store, delivery.incident_id, target)
    if delivery.kind == UPDATE:
        if not transport.threads or thread is None or not thread.has_thread or thread.digest:
            return "skipped: no message of its own to edit"
        try:
            return transport.update(thread.channel_id or target, thread.ts, text, blocks).ts
        except SlackDeliveryError as exc:
            if exc.code not in _GONE:
                raise
            return "skipped: the original message was deleted"
    if delivery.kind == REPLY:
        return _reply(store, transport, delivery, thread, alert_at)
    raise SlackDeliveryError(f"unknown delivery kind {delivery.kind!r}", "message")


def _reply(
    store: HistoryStore,
    transport: SlackTransport,
    delivery: queue.Delivery,
    thread: read.AlertThread | None,
    alert_at: datetime | None,
) -> str | None:
    """A reply in the incident's thread; at the top level when there is no thread (any more)."""
    payload, target = delivery.payload, delivery.target
    text, blocks = str(payload.get("text", "")), list(payload.get("blocks", []))
    posted: Posted | None = None
    if transport.threads and thread is not None and thread.has_thread:
        try:
            posted = transport.post(
                thread.channel_id or target,
                text,
                blocks,
                thread_ts=thread.ts,
                broadcast=bool(payload.get("broadcast")),
            )
        except SlackDeliveryError as exc:
            if exc.code not in _GONE:
                raise
            thread = None  # someone deleted the original message: start over at the top level
    if posted is None:  # no thread: its parent was given up or deleted, or webhooks cannot thread
        standalone = payload.get("standalone") or {"text": text, "blocks": blocks}
        posted = transport.post(
            target, str(standalone.get("text", text)), list(standalone.get("blocks", blocks))
        )
        if delivery.incident_id is not None and transport.threads and thread is None:
            threads.record(
                store,
                delivery.incident_id,
                target,
                ts=posted.ts or "",
                channel_id=posted.channel_id,
                digest=False,
                alert_at=alert_at,
            )
    if payload.get("event") == "changed" and alert_at is not None:
        threads.touch(store, delivery.incident_id, target, alert_at)
    return posted.ts


def _queued(store: HistoryStore) -> set[tuple[int, str]]:
    """Announcements still waiting in the queue count as made: their replies will follow them in order."""
    made: set[tuple[int, str]] = set()
    for delivery in queue.pending(store, CHANNEL, limit=10_000):
        if delivery.kind in (POST, DIGEST):
            made.update((int(i), delivery.target) for i in delivery.payload.get("announces", []))
    return made


def _as_of(payload: dict[str, Any]) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(str(payload["as_of"])))
    except (KeyError, ValueError):
        return None


def _summarise(
    context: PublishContext, *, mode: str, plan: Plan, report: DrainReport, preview: str | None = None
) -> None:
    summary: dict[str, Any] = {
        "mode": mode if preview is None else "preview",
        "planned": len(plan.messages),
        "skipped": dict(plan.skipped),
        "sent": report.sent,
        "queued": report.left,
        "given_up": report.given_up,
        "requeued": report.requeued,
    }
    if preview is not None:
        summary["preview"] = preview
        summary["reason"] = mode
    context.summary.details["slack"] = summary


def _warning(report: DrainReport) -> str:
    parts = []
    if report.left:
        parts.append(f"{report.left} message(s) queued for the next run")
    if report.given_up:
        parts.append(f"{report.given_up} message(s) Slack refused and were dropped")
    first = report.errors[0] if report.errors else ""
    return redact(f"slack: {', '.join(parts)}" + (f" ({first})" if first else ""))[:500]
