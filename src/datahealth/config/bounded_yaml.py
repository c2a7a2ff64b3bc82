"""Reading a configuration file within bounds, so no file can hang, exhaust or crash the loader.

A nine-line YAML alias bomb expands to billions of values, 20,000 nested brackets overflow the parser's
recursion, a binary file is not text, and a 36 MB file of comments takes a minute to scan. Each is refused
early with a one-line reason naming the file: the size before reading, the encoding before parsing, the
nesting while composing, and the values reached through aliases while building.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024  # thousands of datasets fit in a few hundred KB; parsing 1 MB takes ~1 s
MAX_DEPTH = 64  # datahealth's deepest setting is about 8 levels down
MAX_ALIAS_VALUES = 20_000  # values reached through `*alias` references, all counted again at each use


class LimitExceeded(Exception):
    """A file over one of the bounds: `message` says which, `fix` what to do, `line` where (if known)."""

    def __init__(self, message: str, fix: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.fix, self.line = message, fix, line


def read_config_text(path: Path) -> str:
    """The file's text, refused when it is too big, binary or not UTF-8 (raises LimitExceeded or OSError)."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise LimitExceeded(
            f"the file is larger than {MAX_FILE_BYTES // 1024} KB",
            "split it into several files in sla_config/ (or remove what is not configuration)",
        )
    if b"\x00" in raw:
        raise LimitExceeded(
            "a binary file, not YAML text", "move it out of sla_config/ (only *.yaml/*.yml files are read)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise LimitExceeded(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
            line,
        ) from None


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the nesting depth bounded before Python's recursion limit is near."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        """Refuse deep `[[[...` while scanning: the scanner looks far ahead for keys inside flow collections."""
        if self.flow_level >= MAX_DEPTH:
            raise LimitExceeded(
                f"nested more than {MAX_DEPTH} levels deep", "flatten the structure", self.get_mark().line + 1
            )
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise LimitExceeded(
                    f"nested more than {MAX_DEPTH} levels deep", "flatten the structure", mark.line + 1
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text` (one document), nesting bounded."""
    loader = BoundedLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class AliasBudget:
    """Counts values reached through aliases; raises once more than MAX_ALIAS_VALUES were expanded."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.open: set[int] = set()  # collections being built: the path from the root to here
        self.expanded = 0

    def enter(self, node: yaml.Node) -> None:
        """Start building a collection; an alias to one still being built (`&a [*a]`) never ends."""
        if id(node) in self.open:
            raise LimitExceeded(
                "an alias refers to the value that contains it (a recursive alias)",
                "remove the *alias from inside its own &anchor",
                node.start_mark.line + 1,
            )
        self.open.add(id(node))

    def leave(self, node: yaml.Node) -> None:
        self.open.discard(id(node))

    def visit(self, node: yaml.Node, via_alias: bool) -> bool:
        """Record a visit; True when `node` is reached through an alias (it was built before)."""
        again = via_alias or id(node) in self.seen
        self.seen.add(id(node))
        if again:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_VALUES:
                raise LimitExceeded(
                    f"aliases expand to more than {MAX_ALIAS_VALUES:,} values (an alias bomb?)",
                    "write the values out, or use fewer nested *alias references",
                    node.start_mark.line + 1,
                )
        return again
