"""Preview mode: with no Slack token or webhook (the demo), the messages go to a JSON file instead.

The file keeps the newest messages across runs, each with its Block Kit payload exactly as it would be
sent and a plain-text rendering. The preview behaves like a real channel: an incident announced in an
earlier preview gets replies, not a second post, and a resolve nobody saw stays silent. Entries of runs
the history store no longer knows (the demo resets it) are dropped, so incident ids never mix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from datahealth.core.results import utc_now
from datahealth.publish.context import PublishContext
from datahealth.publish.slack.blocks import as_text
from datahealth.publish.slack.plan import Plan, PlanState, plan_messages
from datahealth.store import read

KEEP = 200  # messages kept in the preview file (newest last)


def preview_run(context: PublishContext, reason: str) -> tuple[Path, Plan]:
    """Plan this run's messages as a bot-token setup would send them and append them to the preview file."""
    path = context.project.resolve(context.project.config.publish.slack.preview_file)
    previous = _known_runs_only(context, _read(path))
    announced = {(int(i), str(m.get("channel"))) for m in previous for i in m.get("announces") or []}
    plan = plan_messages(context, PlanState(threads=True, announced=announced, last_alerts={}))
    entries = [
        {
            "run_id": context.run_id,
            "as_of": context.as_of.isoformat(),
            "channel": m.target,
            "kind": m.kind,
            "incident_id": m.incident_id,
            "announces": m.announces,
            "text": m.message["text"],
            "blocks": m.message["blocks"],
            "rendered": as_text(m.message),
        }
        for m in plan.messages
    ]
    document = {
        "note": f"Slack is not configured ({reason}); these are the messages datahealth would have sent. "
        "Set publish.slack.token_env (bot token) or webhook_url_env to send them.",
        "updated_at": utc_now().isoformat(),
        "messages": (previous + entries)[-KEEP:],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    tmp.replace(path)
    return path, plan


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []  # a damaged preview is replaced, never a reason to fail
    messages = loaded.get("messages", []) if isinstance(loaded, dict) else []
    return [m for m in messages if isinstance(m, dict)]


def _known_runs_only(context: PublishContext, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = read.known_runs(context.store, (str(m.get("run_id")) for m in messages))
    return [m for m in messages if str(m.get("run_id")) in known]
