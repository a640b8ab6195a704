"""docs/sandbox.md stays honest: every command, criterion, mutator and setting is documented,
and the ten-line example tool really works in the sandbox."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer.main

from bayanihan.cli.sandbox import sandbox_app
from bayanihan.sandbox import Limits
from bayanihan.sandbox.filemutators import FILE_MUTATORS
from bayanihan.sandbox.mutators import TEXT_MUTATORS
from bayanihan.sandbox.policy import CHECKLIST, CRITERIA
from bayanihan.sandbox.runner import Session
from bayanihan.sandbox.settings import SETTINGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"


def _commands(group: typer.Typer, prefix: str = "") -> list[str]:
    click_group = typer.main.get_group(group)
    out = []
    for name, cmd in click_group.commands.items():
        if hasattr(cmd, "commands"):
            out += [f"{prefix}{name} {sub}" for sub in cmd.commands]
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_command_criterion_mutator_and_setting_is_documented():
    doc = DOC.read_text()
    names = [f"sandbox {c}" for c in _commands(sandbox_app)]
    names += list(CRITERIA) + list(TEXT_MUTATORS) + list(FILE_MUTATORS)
    names += [s.env for s in SETTINGS] + [item[0] for item in CHECKLIST]
    missing = [n for n in names if n not in doc]
    assert not missing, f"undocumented in docs/sandbox.md: {missing}"


def test_ten_line_example_tool_works(tmp_path):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    assert len(code.strip().splitlines()) <= 11
    script = tmp_path / "example_tool.py"
    script.write_text(code)
    cases = [{"id": "a", "text": "You won a prize, click here"}, {"id": "b", "text": "lunch?"}]
    verdicts = Session([sys.executable, str(script)], Limits(), netns=False).run(cases)
    assert [(v.outcome, v.label) for v in verdicts] == [("ok", "scam"), ("ok", "ham")]
    assert verdicts[0].score == 1.0
