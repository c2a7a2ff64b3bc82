"""How `datahealth --help` reads: commands grouped by what a user wants to do, in the order they need
them, and flags shown as flags.

The groups and their order live in one table (`COMMAND_PANELS`) instead of on each command, so a new
command is placed by adding one line here; a command missing from it lands in "Other" at the end.
Typer 0.29 shows `<bool>` beside every flag (`--email <bool>`), as if it took a value; flags take none,
so `show_flags_as_flags` shows nothing there.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup, TyperOption

COMMAND_PANELS: dict[str, str] = {
    "init": "Get started",
    "validate": "Get started",
    "demo": "Get started",
    "run": "Monitor",
    "status": "Monitor",
    "history": "Monitor",
    "profile": "Monitor",
    "report": "Monitor",
    "incidents": "Investigate and act",
    "checks": "Investigate and act",
    "schema": "Investigate and act",
    "publish": "Publish and operate",
    "deploy": "Publish and operate",
    "metrics": "Publish and operate",
    "serve-metrics": "Publish and operate",
    "serve-report": "Publish and operate",
}
OTHER = "Other"


class OrderedCommands(TyperGroup):
    """The root command group: commands listed in `COMMAND_PANELS` order, each in its panel."""

    def list_commands(self, ctx: Any) -> list[str]:
        order = list(COMMAND_PANELS)
        names = super().list_commands(ctx)
        return sorted(names, key=lambda name: (order.index(name) if name in order else len(order), name))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and hasattr(command, "rich_help_panel"):
            command.rich_help_panel = COMMAND_PANELS.get(cmd_name, OTHER)
        return command


_typed = TyperOption.display_type_rich


def _flag_or_type(self: TyperOption, ctx: Any) -> str | None:
    return None if self.is_flag else _typed(self, ctx)


def show_flags_as_flags() -> None:
    """Every option typer creates (the commands' and `--help`) shows no type when it is a flag. Typer
    builds its options from `TyperOption` itself, so its display method is replaced there, once."""
    TyperOption.display_type_rich = _flag_or_type  # type: ignore[method-assign,assignment]
