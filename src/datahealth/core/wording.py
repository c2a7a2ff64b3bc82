"""Counted nouns in messages: "1 dataset", "2 datasets", "1 check failed" - never "1 datasets"."""

from __future__ import annotations

IRREGULAR = {"was": "were", "is": "are", "has": "have", "entry": "entries", "query": "queries"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, in its plural form (`many`, a known irregular one, or noun + "s") unless 1."""
    if count == 1:
        return f"{count:,} {noun}"
    return f"{count:,} {many or IRREGULAR.get(noun) or noun + 's'}"
