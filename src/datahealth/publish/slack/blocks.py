"""Slack messages as Block Kit: the incident card, thread notes, digests, and Slack's size limits.

Pure functions from incidents to `{"text": ..., "blocks": [...]}`; nothing here sends or reads anything,
so messages are tested (and previewed in the demo) without Slack. The card answers, at a glance: how bad,
which dataset, what is wrong in one line, observed against expected, since when, whose it is, and where
to look (the Prefect flow run and the report). `text` is the notification / screen-reader fallback.

A card shows counts and column names, never row values: soda-core's open-source engine returns no
failing rows, and row values could hold personal data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from datahealth.core.durations import format_duration
from datahealth.core.redaction import redact
from datahealth.rules.findings import SEVERITY_RANK, Incident, IncidentStatus

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELD = 2000

Message = dict[str, Any]

SEVERITY_EMOJI = {"error": ":red_circle:", "warn": ":large_orange_circle:"}
RESOLVED_EMOJI = ":white_check_mark:"
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{6,}$")
# The only raw mrkdwn an owner may be: one user or one user group. `<!channel>`, `<!here>`, `<!everyone>`
# and links are escaped, so a name in sla_config can never ping a whole channel.
_USER_OR_GROUP = re.compile(r"^<(@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+)(\|[^<>|]*)?>$")
_SLACK_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")


@dataclass(frozen=True)
class Links:
    """URLs a message can point to; each is shown only when known."""

    flow_run_url: str | None = None
    report_url: str | None = None


@dataclass(frozen=True)
class Evidence:
    """What a check found wrong: how many rows fail and in which columns."""

    failing_rows: str | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class CardFacts:
    """Everything beyond the incident itself that a card shows."""

    observed: str | None = None
    expected: str | None = None
    owners: tuple[str, ...] = ()
    evidence: Evidence | None = None
    links: Links = field(default_factory=Links)


# --- text helpers ------------------------------------------------------------------------------------


def escape(text: object) -> str:
    """Data-derived text → Slack mrkdwn-safe (and secret-free): `<`, `>` and `&` would start markup."""
    return redact(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """Cut `text` to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(f"\n... and {len(text)} more characters"))
    return text[:keep] + f"\n... and {len(text) - keep} more characters"


def mention(owner: str, mapping: dict[str, str], enabled: bool = True) -> str:
    """An owner as Slack shows it: a configured mention, a raw user/group id, or `@name` as text."""
    if not enabled:
        return escape(owner)
    if owner in mapping:
        wanted = mapping[owner]
        return wanted if _USER_OR_GROUP.match(wanted) else escape(wanted)
    if _USER_OR_GROUP.match(owner):
        return owner
    if _SLACK_ID.match(owner):
        return f"<!subteam^{owner}>" if owner.startswith("S") else f"<@{owner}>"
    return "@" + escape(owner.lstrip("@"))


def when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def local_time(value: datetime) -> str:
    """A time Slack shows in each reader's own time zone ("Today at 09:00"); UTC text where it cannot."""
    return f"<!date^{int(value.timestamp())}^{{date_short_pretty}} {{time}}|{when(value)}>"


def since(incident: Incident, as_of: datetime) -> str:
    """When the incident opened and for how long it has been open, as of this run (never "0s ago")."""
    opened = local_time(incident.opened_at)
    if incident.status == IncidentStatus.RESOLVED and incident.resolved_at is not None:
        return f"{opened}\nresolved {local_time(incident.resolved_at)} after {format_duration(incident.resolved_at - incident.opened_at)}"
    if as_of > incident.opened_at:
        return f"{opened} (open for {format_duration(as_of - incident.opened_at)})"
    return f"{opened} (first seen in this run)"


def one_line(incident: Incident, facts: CardFacts) -> str:
    """The incident in one line: dataset, what is wrong, observed vs expected (digests, fallbacks)."""
    title = _title(incident)
    rest = title[len(incident.dataset) :] if title.startswith(incident.dataset) else ""
    if (
        rest[:1] in (" ", ".", ":") and rest
    ):  # "x.y is stale …", "x.y.column: …" read on with the name in bold
        line = f"*{escape(incident.dataset)}*{escape(rest)}"
    else:
        line = f"*{escape(incident.dataset)}*: {escape(title)}"
    versus = _versus(facts)
    return f"{line} ({versus})" if versus else line


def _title(incident: Incident) -> str:
    title = incident.title.strip().splitlines()[0] if incident.title.strip() else incident.kind
    prefix = f"{incident.dataset}: "
    return title[len(prefix) :] if title.startswith(prefix) else title


def _versus(facts: CardFacts) -> str:
    parts = []
    if facts.observed:
        parts.append(f"observed {escape(facts.observed)}")
    if facts.expected:
        parts.append(f"expected {escape(facts.expected)}")
    return ", ".join(parts)


def _severity_label(incident: Incident) -> str:
    if incident.status == IncidentStatus.RESOLVED:
        return f"{RESOLVED_EMOJI} Resolved"
    emoji = SEVERITY_EMOJI.get(incident.severity, ":white_circle:")
    return f"{emoji} {incident.severity.capitalize()}"


# --- blocks ------------------------------------------------------------------------------------------


def header(text: str) -> dict[str, Any]:
    if len(text) > MAX_HEADER:
        text = text[: MAX_HEADER - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def fields(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    items = [{"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", MAX_FIELD)} for label, value in pairs]
    return {"type": "section", "fields": items[:10]}


def context(parts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(p)} for p in parts[:10]]}


def link_line(links: Links) -> list[str]:
    """Links only to real web addresses (a Prefect server without a UI URL gives `None/flow-runs/...`)."""
    parts = []
    if _is_web_url(links.flow_run_url):
        parts.append(f"<{_link_safe(links.flow_run_url)}|Prefect flow run>")
    if _is_web_url(links.report_url):
        parts.append(f"<{_link_safe(links.report_url)}|Data health report>")
    return parts


def _is_web_url(url: str | None) -> bool:
    parsed = urlsplit(url or "")
    return parsed.scheme in ("http", "https") and bool(parsed.netloc) and parsed.netloc != "None"


def _link_safe(url: str | None) -> str:
    """`<`, `>` and `|` end a Slack link early; percent-encode them."""
    return str(url).replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def pack_lines(lines: Sequence[str], max_blocks: int, noun: str = "more") -> list[dict[str, Any]]:
    """Lines packed into as few sections as fit Slack's limits; the rest summarised as "... and N more"."""
    blocks: list[dict[str, Any]] = []
    current: list[str] = []
    reserve = 60  # room for the "... and N more" line
    for index, line in enumerate(lines):
        line = clip(line, MAX_TEXT - reserve)
        if current and len("\n".join([*current, line])) > MAX_TEXT - reserve:
            blocks.append(section("\n".join(current)))
            current = []
        if len(blocks) >= max_blocks:
            blocks[-1] = section(blocks[-1]["text"]["text"] + f"\n... and {len(lines) - index} {noun}")
            return blocks
        current.append(line)
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def fit(message: Message) -> Message:
    """Enforce Slack's limits on any message: ≤ 50 blocks, ≤ 3,000 characters in each text and the fallback."""
    blocks = list(message.get("blocks", []))
    if len(blocks) > MAX_BLOCKS:
        dropped = len(blocks) - (MAX_BLOCKS - 1)
        blocks = [*blocks[: MAX_BLOCKS - 1], section(f"... and {dropped} more")]
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            text["text"] = clip(text["text"], MAX_HEADER if block.get("type") == "header" else MAX_TEXT)
    return {**message, "text": clip(str(message.get("text", ""))), "blocks": blocks}


# --- messages ----------------------------------------------------------------------------------------


def incident_card(incident: Incident, facts: CardFacts, as_of: datetime, note: str | None = None) -> Message:
    """The incident's top-level message; re-rendered with the current state for chat.update."""
    resolved = incident.status == IncidentStatus.RESOLVED
    blocks: list[dict[str, Any]] = [header(f"{_severity_label(incident)} · {incident.dataset}")]
    what = f"*{escape(_title(incident))}*"
    if incident.message.strip():
        what += "\n" + escape(clip(incident.message.strip(), 600))
    if note:
        what = f"{note}\n{what}"
    blocks.append(section(what))
    pairs = [
        ("Observed" + (" (last)" if resolved else ""), escape(facts.observed) if facts.observed else "-"),
        ("Expected", escape(facts.expected) if facts.expected else "-"),
        ("Since", since(incident, as_of)),
        ("Owners", " ".join(facts.owners) if facts.owners else "-"),
    ]
    blocks.append(fields(pairs))
    if facts.evidence is not None and not resolved:
        blocks.extend(evidence_blocks(facts.evidence))
    status = _status_note(incident)
    footer = [
        f"incident #{incident.id} · {escape(incident.kind)}" + (f" · {status}" if status else ""),
        *link_line(facts.links),
    ]
    blocks.append(context(footer))
    verdict = "resolved" if resolved else incident.severity
    text = f"[{verdict}] {one_line(incident, facts)}"
    if facts.owners and not resolved:
        text += " " + " ".join(facts.owners)
    return fit({"text": text, "blocks": blocks})


def evidence_blocks(evidence: Evidence) -> list[dict[str, Any]]:
    parts = []
    if evidence.failing_rows is not None:
        parts.append(f"*Failing rows:* {escape(evidence.failing_rows)}")
    if evidence.columns:
        parts.append("*Columns:* " + ", ".join(f"`{escape(c)}`" for c in evidence.columns))
    blocks = [section(" · ".join(parts))] if parts else []
    return blocks


def _status_note(incident: Incident) -> str:
    if incident.status == IncidentStatus.ACKNOWLEDGED:
        who = f" by {escape(incident.acknowledged_by)}" if incident.acknowledged_by else ""
        return f"acknowledged{who}" + (f" until {when(incident.quiet_until)}" if incident.quiet_until else "")
    if incident.status == IncidentStatus.SNOOZED and incident.quiet_until:
        return f"snoozed until {when(incident.quiet_until)}"
    return ""


def change_note(incident: Incident, previous_severity: str | None, facts: CardFacts, reason: str = "") -> str:
    """What changed, in one line, for a thread reply or a webhook update (`reason` from evaluation)."""
    before = SEVERITY_RANK.get(previous_severity or "", 0)
    after = SEVERITY_RANK.get(incident.severity, 0)
    if previous_severity and after > before:
        head = f":arrow_up: Severity raised from {previous_severity} to {incident.severity}"
    elif previous_severity and after < before:
        head = f":arrow_down: Severity lowered from {previous_severity} to {incident.severity}"
    elif reason.strip():
        text = escape(reason.strip())
        head = f":pencil2: {text[:1].upper()}{text[1:]}"
    else:
        head = ":pencil2: Changed"
    versus = _versus(facts)
    return f"{head}: now {versus}" if versus else head


def thread_reply(incident: Incident, facts: CardFacts, note: str) -> Message:
    """A reply in the incident's thread; names the dataset because a digest's thread holds several."""
    footer = [f"{escape(incident.dataset)} · incident #{incident.id}", *link_line(facts.links)]
    return fit({"text": f"{escape(incident.dataset)}: {note}", "blocks": [section(note), context(footer)]})


def resolved_note(incident: Incident) -> str:
    if incident.resolved_at is None:
        return f"{RESOLVED_EMOJI} Resolved"
    return f"{RESOLVED_EMOJI} Resolved after {format_duration(incident.resolved_at - incident.opened_at)}"


@dataclass(frozen=True)
class DigestItem:
    incident: Incident
    facts: CardFacts
    event: str = "opened"


def digest(target: str, items: Sequence[DigestItem], links: Links) -> Message:
    """One message for many incidents at once (a bad load breaks ten tables; ten messages get muted)."""
    opened = [i for i in items if i.event == "opened"]
    title = (
        f":rotating_light: {len(opened)} new data incidents"
        if len(opened) == len(items)
        else f":rotating_light: {len(items)} data incident updates"
    )
    severities = [i.incident.severity for i in opened]
    counts = " · ".join(f"{severities.count(s)} {s}" for s in ("error", "warn") if s in severities)
    owners: list[str] = []
    for item in items:
        owners.extend(o for o in item.facts.owners if o not in owners)
    summary = f"{counts or 'updates'} — details in the thread of each incident as they change"
    if owners:
        summary += "\n*Owners:* " + " ".join(owners)
    blocks: list[dict[str, Any]] = [header(title), section(summary)]
    lines = [_digest_line(item) for item in items]
    footer = [f"digest for {escape(target)}", *link_line(links)]
    blocks.extend(pack_lines(lines, MAX_BLOCKS - len(blocks) - 1, noun="more incidents"))
    blocks.append(context(footer))
    text = f"{len(items)} data incidents: " + "; ".join(escape(i.incident.dataset) for i in items[:10])
    if len(items) > 10:
        text += f" ... and {len(items) - 10} more"
    return fit({"text": text, "blocks": blocks})


def _digest_line(item: DigestItem) -> str:
    incident = item.incident
    emoji = (
        RESOLVED_EMOJI
        if incident.status == IncidentStatus.RESOLVED
        else SEVERITY_EMOJI.get(incident.severity, ":white_circle:")
    )
    label = "" if item.event == "opened" else f" _{item.event}_"
    return f"• {emoji} {one_line(incident, item.facts)}{label} · #{incident.id}"


def _without_date_tokens(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks with Slack's `<!date^...|fallback>` tokens replaced by their fallback text (for previews)."""
    return list(json.loads(_SLACK_DATE.sub(r"\1", json.dumps(blocks))))


def as_text(message: Message) -> str:
    """A plain-text rendering of a message's blocks: the README mock-up and the console preview."""
    out: list[str] = []
    for block in _without_date_tokens(message.get("blocks", [])):
        kind = block.get("type")
        if kind == "header":
            out.append(block["text"]["text"])
        elif kind == "section" and "fields" in block:
            out.extend("  " + f["text"].replace("\n", ": ", 1) for f in block["fields"])
        elif kind == "section":
            out.append(block["text"]["text"])
        elif kind == "context":
            out.append("  " + " | ".join(e["text"] for e in block["elements"]))
    return "\n".join(out)
