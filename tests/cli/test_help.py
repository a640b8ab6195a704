"""Every command is in docs/cli.md with an example, and every option says what it is for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from bayanihan.cli import app

ROOT = Path(__file__).resolve().parents[2]


def commands(command: Any = None, prefix: str = "bayanihan") -> Iterator[tuple[str, Any]]:
    command = command or typer.main.get_command(app)
    for name, sub in getattr(command, "commands", {}).items():
        full = f"{prefix} {name}"
        if hasattr(sub, "commands"):
            yield from commands(sub, full)
        else:
            yield full, sub


def test_every_command_has_an_example_in_docs_cli() -> None:
    rows = [line for line in (ROOT / "docs" / "cli.md").read_text().splitlines()
            if line.startswith("| `bayanihan")]
    examples = {row.split("`")[1]: row.split("`")[3] for row in rows}
    missing = [name for name, _ in commands() if name not in examples]
    assert not missing, f"commands without an example in docs/cli.md: {missing}"
    wrong = [name for name, _ in commands() if not examples[name].startswith(name)]
    assert not wrong, f"examples that run another command: {wrong}"


def test_every_option_has_help_text() -> None:
    bare = [f"{name} {param.opts[0]}" for name, command in commands()
            for param in command.params
            if param.param_type_name == "option" and not getattr(param, "help", None)]
    assert not bare, f"options without help text: {bare}"
