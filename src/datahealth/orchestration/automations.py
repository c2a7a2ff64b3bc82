"""Prefect Automations kept as YAML files in the project, applied by `datahealth automations apply`.

An automation file is Prefect's own automation JSON written as YAML, with one convenience: an action may
name its block as `block: <block type slug>/<block name>` (`custom-webhook/datahealth-pager`) instead of a
`block_document_id`, which differs per Prefect server. Applying is idempotent: an automation is found
by name and updated, or created when missing, so the files stay the source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prefect import get_client
from prefect.events.schemas.automations import AutomationCore
from prefect.exceptions import ObjectNotFound
from pydantic import ValidationError


class AutomationFileError(ValueError):
    """An automation file that cannot be applied; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Applied:
    name: str
    file: Path
    created: bool


def automation_files(path: Path) -> list[Path]:
    """`path` itself when it is a file, else the YAML/JSON files directly in it, sorted."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AutomationFileError(f"{path}: no such file or directory; pass a file or a directory of them")
    return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def load_automation(file: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise AutomationFileError(f"{file}{line}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict) or "name" not in document:
        raise AutomationFileError(f"{file}: expected a mapping with at least `name`, `trigger` and `actions`")
    return document


def _resolve_blocks(file: Path, document: dict[str, Any], block_ids: dict[str, str]) -> dict[str, Any]:
    """Replace each action's `block: slug/name` with the `block_document_id` of that block."""
    resolved = dict(document)
    for key in ("actions", "actions_on_trigger", "actions_on_resolve"):
        actions = []
        for index, action in enumerate(document.get(key) or []):
            action = dict(action)
            reference = action.pop("block", None)
            if reference is not None:
                if reference not in block_ids:
                    raise AutomationFileError(
                        f"{file}: {key}[{index}].block: no block {reference!r} on this Prefect server; "
                        "create it (UI → Blocks, or `prefect block create`) or fix the name"
                    )
                action["block_document_id"] = block_ids[reference]
            actions.append(action)
        if key in document:
            resolved[key] = actions
    return resolved


def _block_references(document: dict[str, Any]) -> set[str]:
    keys = ("actions", "actions_on_trigger", "actions_on_resolve")
    return {
        str(a["block"]) for k in keys for a in document.get(k) or [] if isinstance(a, dict) and "block" in a
    }


def build_automation(file: Path, document: dict[str, Any], block_ids: dict[str, str]) -> AutomationCore:
    try:
        return AutomationCore.model_validate(_resolve_blocks(file, document, block_ids))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AutomationFileError(
            f"{file}: {where}: {first['msg']}; see docs/prefect.md for the automation format"
        ) from None


def apply_automations(path: Path) -> list[Applied]:
    """Create or update every automation under `path` on the Prefect server of the current settings."""
    documents = [(file, load_automation(file)) for file in automation_files(path)]
    applied = []
    with get_client(sync_client=True) as client:
        block_ids: dict[str, str] = {}
        for reference in sorted({ref for _, doc in documents for ref in _block_references(doc)}):
            slug, _, name = reference.partition("/")
            try:
                block_ids[reference] = str(client.read_block_document_by_name(name, slug).id)
            except ObjectNotFound:
                continue  # reported with the file and action that names it
        for file, document in documents:
            automation = build_automation(file, document, block_ids)
            existing = client.read_automations_by_name(automation.name)
            if existing:
                client.update_automation(existing[0].id, automation)
            else:
                client.create_automation(automation)
            applied.append(Applied(automation.name, file, created=not existing))
    return applied
