"""Which Slack messages a run sends, to whom: routing and noise control over the run's incident changes.

The rules, in the order they apply to each incident change and each of its routed destinations:
1. ongoing incidents are silent (evaluation marks a real change as CHANGED, not ONGOING);
2. acknowledged / snoozed incidents stay silent until `quiet_until` (a resolve still edits the original
   message in place, which notifies nobody);
3. `suppress_for`: no new alert about the same problem (fingerprint) in the same place within the interval;
4. a destination that would get more than `digest_threshold` top-level messages in one run gets one digest;
5. changes go in the incident's thread (bot mode) and refresh the original; a resolve edits the original
   and says so in the thread. Webhooks cannot thread or edit, so they get a top-level notice instead;
6. a resolve of something nobody was told about stays silent;
7. "could not verify since …" (an UNVERIFIED incident: its check errored, the source was lost) is one
   reply in the incident's thread, once until it is verified again; webhooks and untold incidents skip it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datahealth.config.models import DatasetConfig, SlackConfig
from datahealth.core.results import CheckResult
from datahealth.publish.context import PublishContext
from datahealth.publish.slack import blocks, values
from datahealth.publish.slack.blocks import CardFacts, DigestItem, Evidence, Links, Message
from datahealth.report.render import LATEST, report_url
from datahealth.rules.findings import SEVERITY_RANK, Incident, IncidentChange, IncidentEvent
from datahealth.rules.incidents import UNVERIFIED_SINCE
from datahealth.rules.routing import destinations

# Delivery kinds (stored in the deliveries table, so their names are part of the history format).
POST, DIGEST, REPLY, UPDATE, NOTICE = "post", "digest", "reply", "update", "notice"


@dataclass
class Outgoing:
    """One message to deliver. `announces` are the incidents a top-level post introduces (threads)."""

    kind: str
    target: str
    message: Message
    incident_id: int | None = None
    announces: list[int] = field(default_factory=list)
    broadcast: bool = False
    standalone: Message | None = None  # a reply's stand-in when its thread is gone
    event: str = ""

    def payload(self, as_of: datetime) -> dict[str, Any]:
        return {
            "text": self.message["text"],
            "blocks": self.message["blocks"],
            "announces": self.announces,
            "broadcast": self.broadcast,
            "standalone": self.standalone,
            "event": self.event,
            "as_of": as_of.isoformat(),
        }


@dataclass
class Plan:
    messages: list[Outgoing] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class PlanState:
    """What the plan needs from history: who was told already, and when the last alert went out."""

    threads: bool  # replies and edits possible (bot mode, or the preview of it)
    announced: set[tuple[int, str]] | None  # None: assume everything was announced (preview)
    last_alerts: dict[tuple[str, str], datetime]


def plan_messages(
    context: PublishContext, state: PlanState, target_for: Callable[[str], str] | None = None
) -> Plan:
    """Turn the run's incident changes into messages per destination (pure apart from its inputs)."""
    config = context.project.config
    slack = config.publish.slack
    resolve_target = target_for or (lambda channel: channel)
    links = Links(context.flow_run_url, report_link(context))
    plan = Plan()
    top_level: dict[str, list[tuple[IncidentChange, CardFacts, str]]] = defaultdict(list)
    threaded: list[Outgoing] = []
    for change in context.evaluation.changes:
        incident = change.incident
        if change.event == IncidentEvent.ONGOING:
            plan.skipped["ongoing"] += 1
            continue
        dataset = config.datasets.get(incident.dataset)
        channels = (
            destinations(config, dataset, incident.severity).slack_channels
            if dataset
            else (slack.default_channel,)
        )
        # where it was announced counts too: routing can change with severity (warn → error → warn)
        earlier = sorted(t for i, t in state.announced or () if i == incident.id)
        targets = list(dict.fromkeys([*(resolve_target(c) for c in channels), *earlier]))
        facts = card_facts(
            context, change, dataset, Links(context.flow_run_url, report_link(context, incident.dataset))
        )
        quiet = incident.is_quiet(context.as_of)
        for target in targets:
            told = state.announced is None or (incident.id, target) in state.announced
            if change.event == IncidentEvent.UNVERIFIED:
                if not told or quiet or not state.threads:
                    plan.skipped["unverified, not threaded"] += 1
                    continue
                threaded.extend(
                    _in_thread(incident, facts, target, context.as_of, "unverified", unverified_note(change))
                )
                continue
            if change.event == IncidentEvent.RESOLVED:
                if not told:
                    plan.skipped["never announced"] += 1
                    continue
                if state.threads:
                    note = None if quiet else blocks.resolved_note(incident)
                    threaded.extend(_in_thread(incident, facts, target, context.as_of, "resolved", note))
                elif not quiet:
                    top_level[target].append((change, facts, NOTICE))
                continue
            if quiet:
                plan.skipped["acknowledged or snoozed"] += 1
                continue
            if _suppressed(slack, state, incident.fingerprint, target, context.as_of):
                plan.skipped["suppressed"] += 1
                continue
            if change.event == IncidentEvent.OPENED or not told:
                top_level[target].append((change, facts, POST))
            elif state.threads:
                note = blocks.change_note(incident, change.previous_severity, facts, change.reason)
                raised = _rank(incident.severity) > _rank(change.previous_severity)
                threaded.extend(_in_thread(incident, facts, target, context.as_of, "changed", note, raised))
            else:
                top_level[target].append((change, facts, NOTICE))
    for target, items in top_level.items():
        plan.messages.extend(_top_level(target, items, slack.digest_threshold, links, context.as_of))
    plan.messages.extend(threaded)
    return plan


def unverified_note(change: IncidentChange) -> str:
    """The thread reply for an incident whose rule could not be evaluated: still open, not resolved."""
    since = change.incident.details.get(UNVERIFIED_SINCE)
    when = str(since)[:16].replace("T", " ") + " UTC" if since else "this run"
    reason = blocks.escape(change.reason.strip()) if change.reason.strip() else "not evaluated"
    return f":grey_question: Could not verify since {when}: {reason}. Still open until a run evaluates it."


def _in_thread(
    incident: Incident,
    facts: CardFacts,
    target: str,
    as_of: datetime,
    event: str,
    note: str | None,
    broadcast: bool = False,
) -> list[Outgoing]:
    """The original message refreshed in place, then (when there is news) a reply in its thread."""
    out = [Outgoing(UPDATE, target, blocks.incident_card(incident, facts, as_of), incident.id, event=event)]
    if note is not None:
        reply = blocks.thread_reply(incident, facts, note)
        standalone = blocks.incident_card(incident, facts, as_of, note)
        out.append(
            Outgoing(
                REPLY, target, reply, incident.id, broadcast=broadcast, standalone=standalone, event=event
            )
        )
    return out


def _top_level(
    target: str,
    items: list[tuple[IncidentChange, CardFacts, str]],
    threshold: int,
    links: Links,
    as_of: datetime,
) -> list[Outgoing]:
    if len(items) > threshold:
        ordered = sorted(items, key=lambda i: (-_rank(i[0].incident.severity), i[0].incident.dataset))
        digest_items = [DigestItem(c.incident, f, c.event.value) for c, f, _ in ordered]
        announces = [c.incident.id for c, _, kind in ordered if kind == POST]
        return [
            Outgoing(
                DIGEST,
                target,
                blocks.digest(target, digest_items, links),
                announces=announces,
                event="digest",
            )
        ]
    out = []
    for change, facts, kind in items:
        incident = change.incident
        note = None
        if change.event == IncidentEvent.CHANGED and kind == NOTICE:
            note = blocks.change_note(incident, change.previous_severity, facts, change.reason)
        card = blocks.incident_card(incident, facts, as_of, note)
        out.append(
            Outgoing(
                kind,
                target,
                card,
                incident.id,
                announces=[incident.id] if kind == POST else [],
                event=change.event.value,
            )
        )
    return out


def _suppressed(slack: SlackConfig, state: PlanState, fingerprint: str, target: str, as_of: datetime) -> bool:
    if slack.suppress_for.total_seconds() <= 0:
        return False
    last = state.last_alerts.get((fingerprint, target))
    return last is not None and last <= as_of < last + slack.suppress_for


def _rank(severity: str | None) -> int:
    return SEVERITY_RANK.get(severity or "", 0)


def card_facts(
    context: PublishContext, change: IncidentChange, dataset: DatasetConfig | None, links: Links
) -> CardFacts:
    """Observed/expected, owners and evidence for one incident's card."""
    slack = context.project.config.publish.slack
    incident, finding = change.incident, change.finding
    observed = finding.observed if finding else incident.details.get("observed")
    expected = finding.expected if finding else incident.details.get("expected")
    owners = tuple(
        blocks.mention(o, slack.owner_mentions, slack.mention_owners)
        for o in (dataset.owners if dataset else [])
    )
    evidence = None
    if incident.kind == "check":
        check = _check_result(context, incident.dataset, incident.subject)
        column = (finding.details.get("column") if finding else None) or incident.details.get("column")
        evidence = _evidence(check, column)
        if check is not None and check.observed_value is not None:
            observed = values.observed_text(check)  # with its unit: hours, rows, %
    return CardFacts(
        observed=None if observed is None else str(observed),
        expected=None if expected is None else str(expected),
        owners=owners,
        evidence=evidence,
        links=links,
    )


def _check_result(context: PublishContext, dataset: str, name: str) -> CheckResult | None:
    for result in context.results:
        if result.dataset == dataset:
            return next((c for c in result.checks if c.name == name), None)
    return None


def _evidence(check: CheckResult | None, column: str | None) -> Evidence:
    """How many rows fail (row-counting checks only) and which columns; never row values (Soda has none)."""
    columns: list[str] = [column] if column else []
    if check and check.column and check.column not in columns:
        columns.append(check.column)
    failing = values.failing_rows(check) if check is not None else None
    return Evidence(failing_rows=failing, columns=tuple(columns))


def report_link(context: PublishContext, dataset: str | None = None) -> str | None:
    """The report's URL (at the dataset's section when given), when the report is published somewhere.

    The report publisher runs first and leaves `report_url` (or `report`) in the artifacts; without a
    report this run, `publish.report.base_url` still points at the latest one.
    """

    published = context.artifacts.get("report_url") or context.artifacts.get("report") or ""
    if published.startswith(("http://", "https://")):
        if dataset and "#" not in published:
            return f"{published}#ds={quote(dataset, safe='')}"
        return published
    filename = Path(context.artifacts["report"]).name if context.artifacts.get("report") else LATEST
    return report_url(context.project.config.publish.report, dataset, filename)
