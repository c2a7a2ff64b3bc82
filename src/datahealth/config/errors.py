"""Configuration errors that tell a person which file, which key and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in one file: where it is, what is wrong and how to fix it."""

    file: Path
    key: str
    message: str
    fix: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else f"{self.file}"
        key = f" [{self.key}]" if self.key else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return f"{where}{key}: {self.message.rstrip('.')}.{fix}"


class ConfigError(Exception):
    """Raised with every issue found in a project's configuration, so users fix them in one pass."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.issues)
        header = f"{count} configuration error{'s' if count != 1 else ''}:"
        return "\n".join([header, *(f"  - {issue}" for issue in self.issues)])
